// `/reports`: the monthly rankings (GET /api/rankings/<YYYY-MM>) as charts
// and tables: companies' on-time completion, their projects, specialists'
// reception satisfaction, the service desks, and six months of trend; then
// the month's deductions report with its CSV and XLSX files.
import { ApiError, get } from "../api.js";
import { t } from "../i18n.js";
import { barChart, legend, lineChart } from "../charts.js";
import { previousMonth, reportCard } from "../report.js";
import {
  CENTRE, badge, clock, errorText, failPage, fill, form, h, hasRole, notice, progress, section, start, table,
} from "../ui.js";

const ratio = (v) => (v === null || v === undefined ? null : Number(v));
const pct = (v) => (v === null || v === undefined ? "–" : `${(Number(v) * 100).toFixed(1)}%`);

function monthsBefore(month, n) {
  const [y, m] = month.split("-").map(Number);
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(y, m - 1 - (n - 1 - i), 1)).toISOString().slice(0, 7));
}

function companyTable(caption, entries, { withCompany = false, quiet = false } = {}) {
  return table([
    { label: t("col.rank"), value: (e) => String(e.rank), class: "num" },
    { label: t("col.name"), value: (e) => (withCompany ? `${e.name} · ${e.company}` : e.name) },
    { label: t("col.on_time"), value: (e) => `${pct(e.on_time_rate)} (${e.on_time}/${e.due})`, class: "num" },
    { label: t("col.efficiency"), value: (e) => e.efficiency_median_hours ?? "–", class: "num" },
    { label: t("col.satisfaction"), value: (e) => e.satisfaction_mean ?? "–", class: "num" },
    { label: t("col.reopened"), value: (e) => String(e.reopened ?? 0), class: "num" },
  ], entries, { caption, empty: t("reports.none"), quiet });
}

function companiesSection(rankings) {
  const region = rankings.companies?.region_company || [];
  const property = rankings.companies?.property_company || [];
  const all = [...region, ...property];
  const chart = all.length ? barChart(t("reports.companies"), all.map((e) => e.name),
    [{ name: t("col.on_time"), values: all.map((e) => ratio(e.on_time_rate)) }], { percent: true }) : null;
  const projects = all.flatMap((e) => (e.projects || []).map((p) => ({ ...p, company: e.name })));
  return [
    section(t("reports.companies"), chart,
      companyTable(t("reports.region"), region), companyTable(t("reports.property"), property)),
    section(t("reports.projects"),
      projects.length ? barChart(t("reports.projects"), projects.map((p) => `${p.name} · ${p.company}`),
        [{ name: t("col.on_time"), values: projects.map((p) => ratio(p.on_time_rate)) }], { percent: true }) : null,
      companyTable(t("reports.projects"), projects, { withCompany: true, quiet: true })),
  ];
}

function specialistsSection(rankings) {
  const entries = rankings.specialists?.entries || [];
  return section(t("reports.specialists"),
    entries.length ? barChart(t("reports.specialists"), entries.map((e) => e.name || e.person_id),
      [{ name: t("col.mean"), values: entries.map((e) => Number(e.mean)) }], { max: 5 }) : null,
    table([
      { label: t("col.rank"), value: (e) => String(e.rank), class: "num" },
      { label: t("col.name"), value: (e) => h("span", {}, e.name || e.person_id, e.bottom_ten ? badge(t("reports.bottom"), "warn") : null) },
      { label: t("col.mean"), value: (e) => e.mean, class: "num" },
      { label: t("col.ratings"), value: (e) => String(e.ratings), class: "num" },
    ], entries, { caption: t("reports.specialists"), empty: t("reports.none"), quiet: true }));
}

function desksSection(rankings) {
  return section(t("reports.desks"), table([
    { label: t("col.project"), value: (d) => d.name || d.project_id },
    { label: t("col.received"), value: (d) => String(d.received), class: "num" },
    { label: t("col.on_spot"), value: (d) => pct(d.on_spot_rate), class: "num" },
    { label: t("col.completion"), value: (d) => pct(d.completion_rate), class: "num" },
    { label: t("col.deadlines_met"), value: (d) => `${pct(d.deadlines_met_rate)} (${d.deadlines_met}/${d.deadlines})`, class: "num" },
  ], rankings.desks || [], { caption: t("reports.desks"), empty: t("reports.none"), quiet: true }));
}

async function trendSection(month) {
  const months = monthsBefore(month, 6);
  const answers = await Promise.all(months.map((m) => get(`/api/rankings/${m}`).catch(() => null)));
  const names = new Map();
  for (const answer of answers) {
    for (const e of [...(answer?.companies?.region_company || []), ...(answer?.companies?.property_company || [])]) {
      names.set(e.id, e.name);
    }
  }
  if (!names.size) return section(t("reports.trend"), h("p", { class: "muted", text: t("reports.none") }));
  const series = [...names].map(([id, name]) => ({
    name,
    values: answers.map((answer) => {
      const all = [...(answer?.companies?.region_company || []), ...(answer?.companies?.property_company || [])];
      return ratio(all.find((e) => e.id === id)?.on_time_rate);
    }),
  }));
  return section(t("reports.trend"), legend(series.map((s) => s.name)),
    lineChart(t("reports.trend"), months, series, { percent: true }),
    table([{ label: t("col.name"), value: (s) => s.name },
      ...months.map((m, i) => ({ label: m, value: (s) => pct(s.values[i]), class: "num" }))],
    series, { caption: t("reports.trend"), quiet: true }));
}

async function show(me, month) {
  const parts = [];
  if (hasRole(me, CENTRE)) {
    const bar = progress(t("msg.loading"));
    bar.set(null);
    fill(h("h1", { text: `${t("reports.title")} · ${month}` }), picker(month), bar.el);
    try {
      const rankings = await get(`/api/rankings/${month}`);
      parts.push(rankings.complete ? null : notice(t("reports.incomplete")),
        ...companiesSection(rankings), specialistsSection(rankings), desksSection(rankings),
        await trendSection(month));
    } catch (error) {
      parts.push(notice(errorText(error), error instanceof ApiError && error.status === 409 ? "info" : "error"));
    }
  }
  if (hasRole(me, CENTRE, "hr", "finance")) {
    parts.push(section(`${t("reports.deductions")} ${month}`, await reportCard(me, month)));
  } else if (!parts.length) {
    parts.push(notice(t("msg.forbidden"), "error"));
  }
  fill(h("h1", { text: `${t("reports.title")} · ${month}` }), picker(month), ...parts);
}

function picker(month) {
  return form({
    className: "inline",
    fields: [{ name: "month", label: t("reports.month"), type: "month", required: true, value: month }],
    submitText: t("reports.show"),
    async submit(values) {
      if (values.month) location.assign("/reports?month=" + values.month);
    },
  });
}

start().then((me) => {
  const asked = new URLSearchParams(location.search).get("month");
  const month = /^\d{4}-\d\d$/.test(asked || "") ? asked
    : hasRole(me, CENTRE) ? clock.inputValue().slice(0, 7) : previousMonth(clock.inputValue().slice(0, 7));
  return show(me, month);
}).catch(failPage);
