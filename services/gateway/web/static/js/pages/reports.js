// `/reports`: the monthly rankings (GET /api/rankings/<YYYY-MM>) as charts
// and tables: companies' on-time completion, their projects, specialists'
// reception satisfaction, the service desks, and six months of trend (a
// closed month's rankings are the snapshot frozen at its close, Art. 38);
// then the month's deductions report with its CSV and XLSX files, the people
// above the threshold who need the GM's confirmation (需总经理确认: the GM
// confirms or refers to a sanction case), and every revision of the report;
// last, the quarterly systemic-issue analysis (Art. 42, analysis.js): the
// centre's list of named departments and their measures, and the form where
// a named department's head files them (heads see only this part).
import { ApiError, get, post } from "../api.js";
import { lang, t } from "../i18n.js";
import { barChart, legend, lineChart } from "../charts.js";
import { money, previousMonth, reportCard } from "../report.js";
import {
  CENTRE, announce, badge, clock, errorText, failPage, fill, fmtTime, h, hasRole, notice, progress,
  replace, section, start, table,
} from "../ui.js";
import { form } from "../forms.js";

// This page's own words (the shared word lists are kept by the console's core).
const WORDS = {
  zh: {
    frozen: "本月排名已于 {at} 冻结发布（第三十八条），此后不再变动。",
    analysis: "季度系统性问题分析", quarter: "季度", quarterName: "{year}年第{n}季度",
    review: "需总经理确认（当月扣罚超过 ¥{limit}）",
    reviewNone: "本月无人扣罚超过 ¥{limit}。", reviewTable: "超过阈值的人员",
    final: "全部已确认：人力资源中心可作为最终结果。",
    notFinal: "以下人员的扣罚尚待总经理确认或处分案件决定，人力资源中心暂勿作为最终结果。",
    status: "状态", confirmedFor: "已确认 ¥{amount}", case: "处分案件 {id}（{status}）",
    confirm: "确认", refer: "移交处分案件", note: "备注（可选）",
    confirmed: "已确认 {name} 的当月扣罚。", referred: "已将 {name} 的当月扣罚移交处分案件。",
    revisions: "历次版本", revision: "版本", issuedAt: "出具时间", trigger: "原因", added: "新增笔数",
    caseStatus: { open: "待决定", decided: "已决定", withdrawn: "已撤销" },
    triggers: { "monthly_report.due": "月初自动出具", on_demand: "手动出具", late_line: "补记扣罚后自动改版" },
  },
  en: {
    frozen: "This month's rankings were frozen and published at {at} (Art. 38); they never change.",
    analysis: "Quarterly systemic-issue analysis", quarter: "Quarter", quarterName: "{year} Q{n}",
    review: "Needs the GM's confirmation (month above ¥{limit})",
    reviewNone: "Nobody's deductions this month are above ¥{limit}.",
    reviewTable: "People above the threshold",
    final: "All confirmed: HR may take the report as final.",
    notFinal: "These people's deductions wait for the GM or a sanction case: HR should not take them as final yet.",
    status: "Status", confirmedFor: "confirmed ¥{amount}", case: "case {id} ({status})",
    confirm: "Confirm", refer: "Refer to a case", note: "Note (optional)",
    confirmed: "{name}'s month confirmed.", referred: "{name}'s month referred to a sanction case.",
    revisions: "Revisions", revision: "Revision", issuedAt: "Issued", trigger: "Why", added: "Lines added",
    caseStatus: { open: "open", decided: "decided", withdrawn: "withdrawn" },
    triggers: { "monthly_report.due": "1st of the month", on_demand: "issued by hand", late_line: "a late line" },
  },
}[lang];
const w = (key, vars = {}) => WORDS[key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
const REVIEWERS = ["centre_gm"];

const ratio = (v) => (v === null || v === undefined ? null : Number(v));
const pct = (v) => (v === null || v === undefined ? "–" : `${(Number(v) * 100).toFixed(1)}%`);

// A median handling time (hours, as the API gives it) in the unit that reads:
// minutes under an hour, hours (one decimal) under two days, days beyond.
export function duration(hours) {
  if (hours === null || hours === undefined || hours === "") return "–";
  const value = Number(hours);
  if (value < 1) return t("ca.minutes", { n: Math.max(1, Math.round(value * 60)) });
  if (value < 48) return t("ca.hours", { n: value.toFixed(1) });
  return t("ca.days", { n: (value / 24).toFixed(1) });
}

// A chart only when it has something to show: no bars over "暂无数据".
const drawable = (values) => values.some((v) => v !== null && v !== undefined && !Number.isNaN(v));

// A table under its own heading, the heading kept when the table is empty.
function titled(caption, content) {
  return h("div", { class: "ca-titled" }, h("h3", { text: caption }), content);
}

function monthsBefore(month, n) {
  const [y, m] = month.split("-").map(Number);
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(y, m - 1 - (n - 1 - i), 1)).toISOString().slice(0, 7));
}

function companyTable(caption, entries, { withCompany = false, heading = true } = {}) {
  const content = table([
    { label: t("col.rank"), value: (e) => String(e.rank), class: "num" },
    { label: t("col.name"), value: (e) => (withCompany ? `${e.name} · ${e.company}` : e.name) },
    { label: t("col.on_time"), value: (e) => `${pct(e.on_time_rate)} (${e.on_time}/${e.due})`, class: "num" },
    { label: t("ca.efficiency"), value: (e) => duration(e.efficiency_median_hours), class: "num" },
    { label: t("col.satisfaction"), value: (e) => e.satisfaction_mean ?? "–", class: "num" },
    { label: t("col.reopened"), value: (e) => String(e.reopened ?? 0), class: "num" },
  ], entries, { caption, empty: t("ca.none.due"), quiet: true });
  return heading ? titled(caption, content) : content;
}

// A bar chart of on-time rates, only of the entries with something due.
function rateChart(title, entries, name) {
  const shown = entries.filter((e) => ratio(e.on_time_rate) !== null);
  if (!drawable(shown.map((e) => ratio(e.on_time_rate)))) return null;
  return barChart(title, shown.map(name), [{ name: t("col.on_time"), values: shown.map((e) => ratio(e.on_time_rate)) }],
    { percent: true });
}

function companiesSection(rankings) {
  const region = rankings.companies?.region_company || [];
  const property = rankings.companies?.property_company || [];
  const all = [...region, ...property];
  const projects = all.flatMap((e) => (e.projects || []).map((p) => ({ ...p, company: e.name })));
  return [
    section(t("reports.companies"), rateChart(t("reports.companies"), all, (e) => e.name),
      companyTable(t("reports.region"), region), companyTable(t("reports.property"), property)),
    section(t("reports.projects"),
      rateChart(t("reports.projects"), projects, (p) => `${p.name} · ${p.company}`),
      companyTable(t("reports.projects"), projects, { withCompany: true, heading: false })),
  ];
}

function specialistsSection(rankings) {
  const entries = rankings.specialists?.entries || [];
  return section(t("reports.specialists"),
    drawable(entries.map((e) => ratio(e.mean))) ? barChart(t("reports.specialists"), entries.map((e) => e.name || e.person_id),
      [{ name: t("col.mean"), values: entries.map((e) => ratio(e.mean)) }], { max: 5 }) : null,
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
  if (!series.some((s) => drawable(s.values))) {
    return section(t("reports.trend"), h("p", { class: "muted", text: t("reports.none") }));
  }
  return section(t("reports.trend"), legend(series.map((s) => s.name)),
    lineChart(t("reports.trend"), months, series, { percent: true }),
    table([{ label: t("col.name"), value: (s) => s.name },
      ...months.map((m, i) => ({ label: m, value: (s) => pct(s.values[i]), class: "num" }))],
    series, { caption: t("reports.trend"), quiet: true }));
}

const HEADS = ["head"];

async function show(me, month, quarter) {
  const parts = [];
  const monthly = hasRole(me, CENTRE, "hr", "finance");
  if (hasRole(me, CENTRE)) {
    const bar = progress(t("msg.loading"));
    bar.set(null);
    fill(h("h1", { text: `${t("reports.title")} · ${month}` }), picker(month), bar.el);
    try {
      const rankings = await get(`/api/rankings/${month}`);
      parts.push(rankings.complete ? null : notice(t("reports.incomplete")),
        rankings.frozen ? notice(w("frozen", { at: fmtTime(rankings.published_at) })) : null,
        ...companiesSection(rankings), specialistsSection(rankings), desksSection(rankings),
        await trendSection(month));
    } catch (error) {
      parts.push(notice(errorText(error), error instanceof ApiError && error.status === 409 ? "info" : "error"));
    }
  }
  if (monthly) {
    parts.push(section(`${t("reports.deductions")} ${month}`, await reportCard(me, month)),
      ...(await reviewSections(me, month)));
  }
  if (hasRole(me, CENTRE, HEADS)) {
    parts.push(quarterPicker(quarter, monthly ? month : null), analysisSection(me, quarter, monthly));
  }
  if (!parts.length) parts.push(notice(t("msg.forbidden"), "error"));
  fill(h("h1", { text: monthly ? `${t("reports.title")} · ${month}` : WORDS.analysis }),
    monthly ? picker(month) : null, ...parts);
}

// The people above the threshold and where each stands; the GM decides here.
async function reviewSections(me, month) {
  let report;
  try {
    report = await get(`/api/reports/monthly/${month}`);
  } catch {
    return [];                       // not issued (the report card says so)
  }
  const box = h("div", { class: "review" });
  const draw = (answer) => replace(box, reviewBody(me, month, answer, draw));
  draw(report);
  return [section(w("review", { limit: money(report.review.threshold).slice(1) }), box), await revisionsSection(month)];
}

function reviewBody(me, month, report, draw) {
  const { review } = report;
  if (!review.people.length) return h("p", { class: "muted", text: w("reviewNone", { limit: money(review.threshold).slice(1) }) });
  const gm = hasRole(me, REVIEWERS);
  return [
    notice(review.final ? w("final") : w("notFinal"), review.final ? "ok" : "info"),
    table([
      { label: t("col.person"), value: (p) => p.name || p.person_id },
      { label: t("col.amount"), value: (p) => money(p.amount), class: "num" },
      { label: w("status"), value: (p) => statusCell(p) },
      ...(gm ? [{ label: "", value: (p) => (p.status === "pending" ? decideForm(month, p, draw) : "") }] : []),
    ], review.people, { caption: WORDS.reviewTable, quiet: true }),
  ];
}

function statusCell(p) {
  const kind = p.status === "pending" ? "warn" : "";
  const label = lang === "zh" ? p.status_zh : p.status;
  return h("span", {}, badge(label, kind),
    p.status === "referred" ? ` ${w("case", { id: p.case_id.slice(0, 8), status: WORDS.caseStatus[p.case_status] || p.case_status })}` : null,
    p.status === "pending" && p.confirmed_amount ? ` (${w("confirmedFor", { amount: money(p.confirmed_amount).slice(1) })})` : null,
    p.decided_at ? h("span", { class: "muted", text: ` · ${fmtTime(p.decided_at)}` }) : null);
}

function decideForm(month, person, draw) {
  const note = h("input", { type: "text", maxlength: "2000", "aria-label": w("note"), placeholder: w("note") });
  const act = (kind) => async (event) => {
    const buttons = event.currentTarget.parentElement.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await post(`/api/reports/monthly/${month}/people/${encodeURIComponent(person.person_id)}/${kind}`,
        { note: note.value.trim() || null });
      announce(w(kind === "confirm" ? "confirmed" : "referred", { name: person.name || person.person_id }));
      draw(answer);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      event.currentTarget.parentElement.append(notice(errorText(error), "error"));
    }
  };
  return h("div", { class: "buttons" }, note,
    h("button", { type: "button", class: "primary", text: w("confirm"), onclick: act("confirm") }),
    h("button", { type: "button", text: w("refer"), onclick: act("refer") }));
}

async function revisionsSection(month) {
  let answer;
  try {
    answer = await get(`/api/reports/monthly/${month}/revisions`);
  } catch (error) {
    return section(WORDS.revisions, notice(errorText(error), "error"));
  }
  return section(WORDS.revisions, table([
    { label: w("revision"), value: (r) => `r${r.revision}`, class: "num" },
    { label: w("issuedAt"), value: (r) => fmtTime(r.issued_at) },
    { label: w("trigger"), value: (r) => WORDS.triggers[r.trigger] || r.trigger },
    { label: w("added"), value: (r) => String(r.lines_added), class: "num" },
    { label: t("col.amount"), value: (r) => money(r.totals.amount), class: "num" },
    { label: "", value: (r) => r.summary || "" },
  ], answer.items, { caption: `${WORDS.revisions} ${month}`, quiet: true }));
}

// -- the quarterly systemic-issue analysis (Art. 42; its module is loaded when
// the section comes into view below the month's figures, at once for a head) --

// The quarter before the one of a "YYYY-MM-DD..." date: the last one ended.
function lastEndedQuarter(isoDate) {
  const [year, month] = isoDate.split("-").map(Number);
  const n = Math.floor((month - 1) / 3);
  return n === 0 ? `${year - 1}-Q4` : `${year}-Q${n}`;
}

function quarterName(quarter) {
  const [year, n] = quarter.split("-Q");
  return w("quarterName", { year, n });
}

function quarterPicker(quarter, month) {
  const year = Number(quarter.slice(0, 4));
  const options = [];
  for (let y = year + 1; y >= year - 2; y -= 1) {
    for (let n = 4; n >= 1; n -= 1) options.push([`${y}-Q${n}`, quarterName(`${y}-Q${n}`)]);
  }
  return form({
    className: "inline",
    fields: [{ name: "quarter", label: WORDS.quarter, type: "select", options, value: quarter }],
    submitText: t("reports.show"),
    async submit(values) {
      location.assign("/reports?" + new URLSearchParams(month ? { month, quarter: values.quarter } : { quarter: values.quarter }));
    },
  });
}

function analysisSection(me, quarter, lazy) {
  const box = h("div", { class: "analysis" }, h("p", { class: "muted", text: t("msg.loading") }));
  const load = () => import("../analysis.js").then((m) => m.fillAnalysis(box, me, quarter))
    .catch((error) => replace(box, notice(errorText(error), "error")));
  if (lazy && "IntersectionObserver" in window) {
    const watch = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { watch.disconnect(); load(); }
    }, { rootMargin: "300px" });
    watch.observe(box);
  } else {
    load();
  }
  return section(`${WORDS.analysis} · ${quarterName(quarter)}`, box);
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
  const params = new URLSearchParams(location.search);
  const asked = params.get("month");
  const month = /^\d{4}-\d\d$/.test(asked || "") ? asked
    : hasRole(me, CENTRE) ? clock.inputValue().slice(0, 7) : previousMonth(clock.inputValue().slice(0, 7));
  const quarter = /^\d{4}-Q[1-4]$/.test(params.get("quarter") || "") ? params.get("quarter")
    : lastEndedQuarter(clock.inputValue());
  return show(me, month, quarter);
}).catch(failPage);
