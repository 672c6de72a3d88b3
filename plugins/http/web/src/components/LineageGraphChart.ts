// Registers the ECharts graph series the lineage graph draws with (only that series: importing the
// 'echarts/charts' barrel dynamically would pull every chart type into the bundle). Loaded with
// the first lineage graph, after the shared ECharts set-up in charts/echarts.ts.
import { use } from 'echarts/core';
import { GraphChart } from 'echarts/charts';

use([GraphChart]);
