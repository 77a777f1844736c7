// The part of Apache ECharts the rankings page draws with: bar and line charts
// on a grid with the canvas renderer. Tooltip, legend and aria are left out on
// purpose: each pulls in about 170-200 KB more, past the page's 500 KB script
// budget. The page shows every value as a bar label and in a table beside the
// chart (readable by keyboard and screen reader), with its own HTML legend.
import { init, getInstanceByDom } from "echarts/lib/core/echarts.js";
import { use } from "echarts/lib/extension.js";
import { install as BarChart } from "echarts/lib/chart/bar/install.js";
import { install as LineChart } from "echarts/lib/chart/line/install.js";
import { install as GridComponent } from "echarts/lib/component/grid/installSimple.js";
import { install as CanvasRenderer } from "echarts/lib/renderer/installCanvasRenderer.js";

use([BarChart, LineChart, GridComponent, CanvasRenderer]);

export { init, getInstanceByDom };
