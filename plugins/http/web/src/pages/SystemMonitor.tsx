// System monitor: CPU, memory, disk and GPU (utilisation, memory, power, temperature) sampled every
// 2 s from GET /api/system/monitor and GET /api/gpu/telemetry, with a rolling history chart and a
// clear state when no GPU exists.
import { useEffect, useRef, useState } from 'react';
import { Card, Col, Empty, Progress, Result, Row, Space, Statistic, Typography, Skeleton } from 'antd';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client';
import type { GpuTelemetry, SystemMonitor as SystemData } from '../api/types';
import { EChart } from '../components/EChart';
import { ErrorState } from '../components/ErrorState';
import { format_bytes } from '../lib/format';
import { usePrefs } from '../prefs';

const kHistory = 150;
const kInterval = 2000;

interface Sample {
  t: number;
  cpu: number | null;
  mem: number | null;
  gpus: { util: number | null; mem: number | null; power: number | null; temp: number | null }[];
}

/** The gauge text: always the number (antd shows a check mark at 100%). */
const pct = (p?: number) => `${p ?? 0}%`;

function percent_color(p: number): string {
  return p > 90 ? '#cf1322' : p > 70 ? '#fa8c16' : '#5b5bd6';
}

export default function SystemMonitor() {
  const { t } = useTranslation();
  const { dark } = usePrefs();
  const [sys, set_sys] = useState<SystemData | null>(null);
  const [gpu, set_gpu] = useState<GpuTelemetry | null>(null);
  const [sys_error, set_sys_error] = useState<unknown>(null);
  const [gpu_error, set_gpu_error] = useState<unknown>(null);
  const history = useRef<Sample[]>([]);
  const [, set_tick] = useState(0);

  useEffect(() => {
    let live = true;
    const sample = async () => {
      const [s, g] = await Promise.allSettled([get<SystemData>('/api/system/monitor'), get<GpuTelemetry>('/api/gpu/telemetry')]);
      if (!live) return;
      const sv = s.status === 'fulfilled' ? s.value : null;
      const gv = g.status === 'fulfilled' ? g.value : null;
      set_sys(sv); set_sys_error(s.status === 'rejected' ? s.reason : null);
      set_gpu(gv); set_gpu_error(g.status === 'rejected' ? g.reason : null);
      history.current = [...history.current, {
        t: Date.now(), cpu: sv?.cpu?.percent ?? null, mem: sv?.memory?.percent ?? null,
        gpus: (gv?.available ? gv.gpus ?? [] : []).map((x) => ({ util: x.util_gpu, mem: x.mem_used_pct ?? (x.mem_total_mib ? (100 * (x.mem_used_mib ?? 0)) / x.mem_total_mib : null),
                                                               power: x.power_w, temp: x.temp_c })),
      }].slice(-kHistory);
      set_tick((n) => n + 1);
    };
    void sample();
    const id = window.setInterval(() => { if (document.visibilityState !== 'hidden') void sample(); }, kInterval);
    return () => { live = false; window.clearInterval(id); };
  }, []);

  const h = history.current;
  const line = (name: string, pick: (s: Sample) => number | null, color: string) => ({
    name, type: 'line', showSymbol: false, smooth: true, animation: false, itemStyle: { color }, areaStyle: { opacity: 0.08 },
    data: h.map((s) => [s.t, pick(s)]),
  });
  const chart = (series: Record<string, unknown>[], max?: number, unit = '%') => ({
    animation: false,
    grid: { left: 44, right: 12, top: 28, bottom: 24 },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v.toFixed(1)}${unit}` : '—') },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true }, splitLine: { show: false } },
    yAxis: { type: 'value', min: 0, max, axisLabel: { formatter: `{value}${unit}` }, splitLine: { lineStyle: { opacity: dark ? 0.15 : 0.5 } } },
    series,
  });

  if (sys_error && !sys) return <div className="rn-page"><ErrorState error={sys_error} /></div>;
  if (!sys) return <div className="rn-page"><Skeleton active paragraph={{ rows: 10 }} /></div>;
  if (!sys.available) return <div className="rn-page"><Result status="info" title={t('system.unavailable')} /></div>;

  const cpu = sys.cpu, mem = sys.memory, disk = sys.disk;
  const gpus = gpu?.available ? gpu.gpus ?? [] : [];
  return (
    <div className="rn-page" data-testid="system-page">
      <Row gutter={[16, 16]}>
        <Col xs={24} md={12} xl={6}>
          <Card size="small" title={t('system.cpu')}>
            <div className="rn-gauge">
              <Progress type="dashboard" size={96} percent={Math.round(cpu?.percent ?? 0)} format={pct} status="normal" strokeColor={percent_color(cpu?.percent ?? 0)} />
              <Space direction="vertical" size={2} className="rn-gauge-text">
                <Typography.Text type="secondary">{t('system.cores', { physical: cpu?.count ?? '—', logical: cpu?.logical_count ?? '—' })}</Typography.Text>
                {cpu?.load_avg && <Typography.Text type="secondary">{t('system.load_avg')}: {cpu.load_avg.map((x) => x.toFixed(2)).join(' / ')}</Typography.Text>}
              </Space>
            </div>
          </Card>
        </Col>
        <Col xs={24} md={12} xl={6}>
          <Card size="small" title={t('system.memory')}>
            <div className="rn-gauge">
              <Progress type="dashboard" size={96} percent={Math.round(mem?.percent ?? 0)} format={pct} status="normal" strokeColor={percent_color(mem?.percent ?? 0)} />
              <Space direction="vertical" size={2} className="rn-gauge-text">
                <Typography.Text type="secondary">{t('system.used_of', { used: format_bytes(mem?.used), total: format_bytes(mem?.total) })}</Typography.Text>
                <Typography.Text type="secondary">{t('system.swap')}: {format_bytes(mem?.swap_used)} / {format_bytes(mem?.swap_total)}</Typography.Text>
              </Space>
            </div>
          </Card>
        </Col>
        <Col xs={24} md={12} xl={6}>
          <Card size="small" title={t('system.disk')}>
            <div className="rn-gauge">
              <Progress type="dashboard" size={96} percent={Math.round(disk?.percent ?? 0)} format={pct} status="normal" strokeColor={percent_color(disk?.percent ?? 0)} />
              <Space direction="vertical" size={2} className="rn-gauge-text">
                <Typography.Text type="secondary">{t('system.used_of', { used: format_bytes(disk?.used), total: format_bytes(disk?.total) })}</Typography.Text>
                <Typography.Text type="secondary" className="rn-mono" ellipsis={{ tooltip: disk?.path }} style={{ maxWidth: '100%' }}>{disk?.path}</Typography.Text>
              </Space>
            </div>
          </Card>
        </Col>
        <Col xs={24} md={12} xl={6}>
          <Card size="small" title={t('system.platform')}>
            <Statistic value={sys.platform ? `${sys.platform.system} ${sys.platform.machine}` : '—'} valueStyle={{ fontSize: 20 }} />
            <Typography.Text type="secondary">{sys.platform?.release}</Typography.Text>
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card size="small" title={`${t('system.cpu')} · ${t('system.memory')}`} extra={<Typography.Text type="secondary">{t('system.history', { seconds: (kHistory * kInterval) / 1000 })}</Typography.Text>}>
            <EChart height={220} notMerge={false} option={chart([line(t('system.cpu'), (s) => s.cpu, '#5b5bd6'), line(t('system.memory'), (s) => s.mem, '#2f9e44')], 100)} />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card size="small" title={t('system.gpu')} data-testid="gpu-card">
            {gpu_error && !gpu ? <ErrorState compact error={gpu_error} /> :
             gpus.length === 0 ? (
              <Empty data-testid="no-gpu" image={Empty.PRESENTED_IMAGE_SIMPLE} style={{ padding: 24 }}
                     description={<><div>{t('system.no_gpu')}</div><Typography.Text type="secondary">{gpu?.reason ?? t('system.no_gpu_hint')}</Typography.Text></>} />
            ) : (
              <EChart height={220} notMerge={false} option={chart(gpus.map((g, i) => line(`GPU${g.index} ${t('system.utilization')}`, (s) => s.gpus[i]?.util ?? null, ['#e8590c', '#d6336c', '#1098ad', '#7048e8'][i % 4])), 100)} />
            )}
          </Card>
        </Col>
        {gpus.map((g, i) => (
          <Col key={g.index} xs={24} xl={12}>
            <Card size="small" title={`GPU ${g.index} · ${g.name}`}>
              <Row gutter={16}>
                <Col span={6}><Statistic title={t('system.utilization')} value={g.util_gpu ?? '—'} suffix={g.util_gpu !== null ? '%' : undefined} /></Col>
                <Col span={6}><Statistic title={t('system.gpu_memory')} value={g.mem_used_mib !== null && g.mem_total_mib ? `${(g.mem_used_mib / 1024).toFixed(1)} / ${(g.mem_total_mib / 1024).toFixed(0)}` : '—'} suffix="GiB" /></Col>
                <Col span={6}><Statistic title={t('system.power')} value={g.power_w ?? '—'} suffix={g.power_w !== null ? 'W' : undefined} precision={0} /></Col>
                <Col span={6}><Statistic title={t('system.temperature')} value={g.temp_c ?? '—'} suffix={g.temp_c !== null ? '°C' : undefined} /></Col>
              </Row>
              <EChart height={160} notMerge={false} option={chart([line(t('system.gpu_memory'), (s) => s.gpus[i]?.mem ?? null, '#1098ad'),
                                                                   line(t('system.temperature'), (s) => s.gpus[i]?.temp ?? null, '#e8590c')], undefined, '')} />
            </Card>
          </Col>
        ))}
      </Row>
    </div>
  );
}
