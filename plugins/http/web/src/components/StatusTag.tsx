// A run status as a coloured tag with an animated dot while running. A failed run with a crash exit
// reason shows as "crashed" (lib/status.ts), with the reason in a tooltip.
import { Tag, Tooltip } from 'antd';
import { CheckCircleFilled, CloseCircleFilled, MinusCircleFilled, QuestionCircleFilled, SyncOutlined,
         WarningFilled } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { display_status } from '../lib/status';

const kStyles: Record<string, { color: string; icon: JSX.Element }> = {
  running: { color: 'processing', icon: <SyncOutlined spin /> },
  finished: { color: 'success', icon: <CheckCircleFilled /> },
  failed: { color: 'error', icon: <CloseCircleFilled /> },
  interrupted: { color: 'warning', icon: <MinusCircleFilled /> },
  crashed: { color: 'volcano', icon: <WarningFilled /> },
};

/** The translated name of a status (display_status form); an unknown status string is shown as is. */
export function status_label(t: (key: string) => string, s: string): string {
  const labels: Record<string, string> = {
    running: t('status.running'), finished: t('status.finished'), failed: t('status.failed'),
    interrupted: t('status.interrupted'), crashed: t('status.crashed'), unknown: t('status.unknown'),
  };
  return labels[s] ?? s;
}

export function StatusTag({ status, exitReason }: { status: string | null | undefined; exitReason?: string | null }) {
  const { t } = useTranslation();
  const s = display_status(status, exitReason);
  const style = kStyles[s] ?? { color: 'default', icon: <QuestionCircleFilled /> };
  const tag = (
    <Tag color={style.color} icon={style.icon} data-status={s} style={{ marginInlineEnd: 0 }}>
      {status_label(t, s)}
    </Tag>
  );
  return s === 'crashed' && exitReason ? <Tooltip title={t('status.crashed_tooltip', { reason: exitReason })}>{tag}</Tooltip> : tag;
}
