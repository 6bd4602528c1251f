// The ECharts pieces the admin app draws with, registered once. Imported only through `chart.tsx`'s
// dynamic import, so ECharts is downloaded by the screens that show a chart, never by the first page.
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export { echarts };
