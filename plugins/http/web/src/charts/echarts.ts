// The ECharts modules the UI uses, registered once. Imported only through dynamic import() so that
// ECharts lands in its own chunk (vite.config.ts manualChunks) and loads with the first chart.
import * as echarts from 'echarts/core';
import { LineChart, ParallelChart, BarChart, CustomChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, DataZoomComponent, LegendComponent, MarkPointComponent,
         MarkLineComponent, ParallelComponent, TitleComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, ParallelChart, BarChart, CustomChart, GridComponent, TooltipComponent, DataZoomComponent, LegendComponent,
             MarkPointComponent, MarkLineComponent, ParallelComponent, TitleComponent, CanvasRenderer]);

export default echarts;
