// A React wrapper around one ECharts instance. ECharts itself is loaded lazily (own chunk). The
// instance is resized with its container and joins `group` so zoom and tooltips are linked.
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { Spin } from 'antd';
import type { EChartsType } from 'echarts/core';
import { usePrefs } from '../prefs';

type EChartsModule = typeof import('./../charts/echarts')['default'];
let echarts_promise: Promise<EChartsModule> | null = null;
export function load_echarts(): Promise<EChartsModule> {
  if (!echarts_promise) echarts_promise = import('../charts/echarts').then((m) => m.default);
  return echarts_promise;
}

export interface EChartHandle {
  instance(): EChartsType | null;
}

interface Props {
  option: Record<string, unknown>;
  height?: number | string;
  group?: string;
  /** true: replace the whole option (structure changed); false: merge (live data updates). */
  notMerge?: boolean;
  testId?: string;
}

export const EChart = forwardRef<EChartHandle, Props>(function EChart({ option, height = 260, group, notMerge = true, testId }, ref) {
  const div = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const [ready, set_ready] = useState(false);
  const { dark } = usePrefs();

  useImperativeHandle(ref, () => ({ instance: () => chart.current }), []);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void load_echarts().then((echarts) => {
      if (disposed || !div.current) return;
      chart.current = echarts.init(div.current, dark ? 'dark' : undefined, { renderer: 'canvas' });
      if (group) {
        chart.current.group = group;
        echarts.connect(group);
      }
      if (typeof ResizeObserver !== 'undefined') {
        observer = new ResizeObserver(() => chart.current?.resize());
        observer.observe(div.current);
      }
      set_ready(true);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
      set_ready(false);
    };
  }, [dark, group]);

  useEffect(() => {
    if (!ready || !chart.current) return;
    chart.current.setOption({ backgroundColor: 'transparent', ...option }, { notMerge, lazyUpdate: true });
  }, [option, ready, notMerge]);

  return (
    <div style={{ position: 'relative', height, width: '100%' }} data-testid={testId}>
      <div ref={div} style={{ height: '100%', width: '100%' }} />
      {!ready && <Spin style={{ position: 'absolute', top: '45%', left: '48%' }} />}
    </div>
  );
});
