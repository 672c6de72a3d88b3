// A run status as a coloured tag with an animated dot while running.
import { Tag } from 'antd';
import { CheckCircleFilled, CloseCircleFilled, MinusCircleFilled, QuestionCircleFilled, SyncOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';

const kStyles: Record<string, { color: string; icon: JSX.Element }> = {
  running: { color: 'processing', icon: <SyncOutlined spin /> },
  finished: { color: 'success', icon: <CheckCircleFilled /> },
  failed: { color: 'error', icon: <CloseCircleFilled /> },
  interrupted: { color: 'warning', icon: <MinusCircleFilled /> },
};

export function StatusTag({ status }: { status: string | null | undefined }) {
  const { t } = useTranslation();
  const s = status ?? 'unknown';
  const style = kStyles[s] ?? { color: 'default', icon: <QuestionCircleFilled /> };
  const label = kStyles[s] ? t(`status.${s}`) : s === 'unknown' ? t('status.unknown') : s;
  return (
    <Tag color={style.color} icon={style.icon} data-status={s} style={{ marginInlineEnd: 0 }}>
      {label}
    </Tag>
  );
}
