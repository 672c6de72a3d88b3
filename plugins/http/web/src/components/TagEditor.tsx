// Inline tag editing for one run: tags as closable chips plus an "Add tag" input with suggestions.
// Saves through PATCH /api/runs/{id} {"tags": [...]}; the caller refreshes.
import { useState } from 'react';
import { AutoComplete, Tag, App } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { patch } from '../api/client';
import { error_text } from './ErrorState';

export function TagEditor({ runId, tags, suggestions, onSaved }:
    { runId: string; tags: string[]; suggestions: string[]; onSaved: (tags: string[]) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [adding, set_adding] = useState(false);
  const [value, set_value] = useState('');

  const save = async (next: string[]) => {
    try {
      const res = await patch<{ tags?: string[] }>(`/api/runs/${encodeURIComponent(runId)}`, { tags: next });
      onSaved(res?.tags ?? next);
      message.success(t('experiments.tags_saved'));
    } catch (e) {
      message.error(error_text(e, t));
    }
  };

  const commit = () => {
    const v = value.trim();
    set_adding(false);
    set_value('');
    if (v && !tags.includes(v)) void save([...tags, v]);
  };

  return (
    <span style={{ display: 'inline-flex', flexWrap: 'wrap', gap: 4 }} onClick={(e) => e.stopPropagation()}>
      {tags.map((tag) => (
        <Tag key={tag} closable onClose={(e) => { e.preventDefault(); void save(tags.filter((x) => x !== tag)); }}
             style={{ marginInlineEnd: 0 }}>{tag}</Tag>
      ))}
      {adding ? (
        <AutoComplete size="small" autoFocus value={value} style={{ width: 120 }}
                      options={suggestions.filter((s) => !tags.includes(s) && s.toLowerCase().includes(value.toLowerCase()))
                        .slice(0, 8).map((s) => ({ value: s }))}
                      onChange={set_value} onBlur={commit} onSelect={(v) => { set_value(v); }}
                      onKeyDown={(e) => { if (e.key === 'Enter') commit(); if (e.key === 'Escape') { set_adding(false); set_value(''); } }}
                      aria-label={t('experiments.tag_add')} />
      ) : (
        <Tag onClick={() => set_adding(true)} style={{ borderStyle: 'dashed', cursor: 'pointer', marginInlineEnd: 0 }}
             tabIndex={0} role="button" aria-label={t('experiments.tag_add')}
             onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') set_adding(true); }}>
          <PlusOutlined />
        </Tag>
      )}
    </span>
  );
}
