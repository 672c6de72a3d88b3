// Set or move an alias of an artifact (PUT /api/artifacts/{name}/aliases/{alias}, API.md §4.5).
// An existing alias is moved to the chosen version; the reserved names (latest, v<N>) and invalid
// ones are refused before the request, with the same rule as the server (FORMAT.md §7.6).
import { useEffect, useState } from 'react';
import { AutoComplete, Form, Modal, Select, App as AntApp } from 'antd';
import { useTranslation } from 'react-i18next';
import { set_artifact_alias } from '../api/client';
import { error_text } from './ErrorState';

/** null when `alias` is a valid user alias, else the translation key of the reason. */
export function alias_problem(alias: string): string | null {
  if (!alias) return 'artifacts.alias_required';
  if (alias === 'latest' || /^v[0-9]+$/.test(alias)) return 'artifacts.alias_reserved';
  if (!/^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(alias)) return 'artifacts.alias_invalid';
  return null;
}

interface Props {
  open: boolean;
  name: string;
  versions: number[];
  /** The artifact's current aliases, alias → version. */
  aliases: Record<string, number>;
  initial_version: number;
  onClose: () => void;
  onDone: () => void;
}

export function ArtifactAliasModal({ open, name, versions, aliases, initial_version, onClose, onDone }: Props) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const [alias, set_alias] = useState('');
  const [version, set_version] = useState(initial_version);
  const [busy, set_busy] = useState(false);
  const [touched, set_touched] = useState(false);
  const [server_error, set_server_error] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      set_alias('');
      set_version(initial_version);
      set_touched(false);
      set_server_error(null);
    }
  }, [open, initial_version]);

  const problem = alias_problem(alias.trim());
  const current = aliases[alias.trim()];
  const submit = async () => {
    set_touched(true);
    if (problem) return;
    set_busy(true);
    set_server_error(null);
    try {
      const r = await set_artifact_alias(name, alias.trim(), version);
      void message.success(r.previous_version && r.previous_version !== r.version
        ? t('artifacts.alias_moved', { alias: r.alias, from: r.previous_version, to: r.version })
        : t('artifacts.alias_set', { alias: r.alias, version: r.version }));
      onDone();
      onClose();
    } catch (e) {
      set_server_error(error_text(e, t));
    } finally {
      set_busy(false);
    }
  };

  return (
    <Modal open={open} title={t('artifacts.set_alias_title', { name })} onCancel={onClose} onOk={() => void submit()}
           okText={current !== undefined && current !== version ? t('artifacts.move_alias') : t('artifacts.set_alias')}
           cancelText={t('common.cancel')} confirmLoading={busy} destroyOnClose
           okButtonProps={{ 'data-testid': 'alias-submit' } as Record<string, string>}>
      <Form layout="vertical" onFinish={() => void submit()} data-testid="alias-modal">
        <Form.Item label={t('artifacts.alias')} required
                   validateStatus={(touched && problem) || server_error ? 'error' : undefined}
                   help={server_error ?? (touched && problem ? t(problem) : current !== undefined && current !== version
                     ? t('artifacts.alias_will_move', { alias: alias.trim(), from: current, to: version }) : t('artifacts.alias_hint'))}>
          <AutoComplete value={alias} autoFocus
                        options={Object.entries(aliases).map(([a, v]) => ({ value: a, label: `${a} → v${v}` }))}
                        filterOption={(input, o) => String(o?.value ?? '').toLowerCase().includes(input.toLowerCase())}
                        onChange={(v: string) => { set_alias(v); set_server_error(null); }}
                        onBlur={() => set_touched(true)}
                        aria-label={t('artifacts.alias')} data-testid="alias-input" placeholder="production" />
        </Form.Item>
        <Form.Item label={t('artifacts.version')}>
          <Select value={version} onChange={set_version} aria-label={t('artifacts.version')} data-testid="alias-version"
                  options={versions.map((v) => ({ value: v, label: `v${v}` }))} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
