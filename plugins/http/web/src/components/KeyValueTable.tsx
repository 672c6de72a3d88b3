// A searchable two-column table of a flattened object (config, summary).
import { useMemo, useState } from 'react';
import { Empty, Input, Table } from 'antd';
import { useTranslation } from 'react-i18next';
import { flatten, format_number } from '../lib/format';

export function KeyValueTable({ data, emptyText }: { data: Record<string, unknown> | null | undefined; emptyText: string }) {
  const { t } = useTranslation();
  const [q, set_q] = useState('');
  const rows = useMemo(() => Object.entries(flatten(data ?? {})).map(([key, value]) => ({ key, value })), [data]);
  const shown = rows.filter((r) => r.key.toLowerCase().includes(q.toLowerCase()));
  if (rows.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={emptyText} />;
  return (
    <>
      {rows.length > 10 && <Input.Search size="small" allowClear style={{ width: 240, marginBottom: 8 }} placeholder={t('common.search')}
                                         value={q} onChange={(e) => set_q(e.target.value)} aria-label={t('common.search')} />}
      <Table size="small" rowKey="key" dataSource={shown} pagination={shown.length > 50 ? { pageSize: 50 } : false}
             columns={[{ title: t('run.key'), dataIndex: 'key', width: '40%', render: (k: string) => <span className="rn-mono">{k}</span> },
                       { title: t('run.value'), dataIndex: 'value', render: (v: unknown) => <span className="rn-mono">{format_number(v)}</span> }]} />
    </>
  );
}
