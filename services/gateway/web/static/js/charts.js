// Bar and line charts with Apache ECharts (a custom build, static/vendor/):
// every value is also a label on the chart, and the page shows the same
// numbers in a table, so nothing depends on hovering.
import { init } from "../vendor/echarts-5.6.0.custom.min.js";
import { h } from "./ui.js";

export const PALETTE = ["#1d4ed8", "#059669", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#65a30d", "#db2777"];

function mount(title, height) {
  const el = h("div", { class: "chart", role: "img", "aria-label": title, style: null });
  el.dataset.height = height;
  return el;
}

// option: the chart's ECharts option, or a function of the element's width
// (the category labels are laid out for the room they have).
function draw(el, option) {
  // drawn once the element is in the page and has a size; again when its width changes
  const observer = new ResizeObserver(() => {
    if (!el.offsetWidth) return;
    const chart = el._chart || (el._chart = init(el, null, { renderer: "canvas" }));
    if (el._drawn !== el.offsetWidth) {
      chart.setOption(typeof option === "function" ? option(el.offsetWidth) : option, true);
      el._drawn = el.offsetWidth;
    }
    chart.resize();
  });
  observer.observe(el);
  return el;
}

// Category labels whole, never cut: wrapped within their slot when it is wide
// enough for a few characters a line, else turned (the grid makes room).
export function categoryLabels(categories, width) {
  const slot = (width - 72) / Math.max(1, categories.length);
  const longest = Math.max(0, ...categories.map((c) => String(c).length));
  if (slot >= 72 || longest * 13 <= slot) return { interval: 0, overflow: "break", width: Math.max(40, slot - 8) };
  return { interval: 0, rotate: 40, overflow: "none" };
}

// categories: names on the axis; series: [{name, values}]; percent: values are ratios 0..1
export function barChart(title, categories, series, { percent = false, max } = {}) {
  const format = (v) => (v === null || v === undefined ? "–" : percent ? `${Math.round(v * 1000) / 10}%` : String(v));
  const el = mount(title);
  return draw(el, (width) => ({
    animation: false,
    color: PALETTE,
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: categories, axisLabel: categoryLabels(categories, width) },
    yAxis: { type: "value", max: max ?? (percent ? 1 : null), axisLabel: { formatter: (v) => format(v) } },
    series: series.map((s) => ({
      name: s.name, type: "bar", data: s.values, barMaxWidth: 48,
      label: { show: true, position: "top", formatter: (p) => format(p.value) },
    })),
  }));
}

export function lineChart(title, categories, series, { percent = false } = {}) {
  const format = (v) => (v === null || v === undefined ? "–" : percent ? `${Math.round(v * 1000) / 10}%` : String(v));
  return draw(mount(title), {
    animation: false,
    color: PALETTE,
    grid: { left: 8, right: 24, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: categories },
    yAxis: { type: "value", max: percent ? 1 : null, axisLabel: { formatter: (v) => format(v) } },
    series: series.map((s) => ({
      name: s.name, type: "line", data: s.values, connectNulls: false, symbolSize: 8,
      label: { show: true, formatter: (p) => format(p.value) },
    })),
  });
}

export function legend(names) {
  return h("ul", { class: "legend" }, names.map((name, i) => h("li", {},
    h("span", { class: `swatch c${i % PALETTE.length}`, "aria-hidden": "true" }), name)));
}
