// `/complaints`: find complaints (GET /api/complaints): search by id, customer
// name, phone or room; filter by status, project, category, channel,
// department, handler, recording days, due today and overdue; sort; page. Everything is
// in the URL (share it, bookmark it, the back button returns to the last
// search), and the filtered list downloads as CSV or XLSX
// (GET /api/complaints/export). Names are shown, ids stay in the links.
import { download, get } from "../api.js";
import { codesOf, label, lang, t } from "../i18n.js";
import {
  announce, badge, complaintLink, errorText, failPage, fill, fmtTime, h, notice, progress, replace,
  section, start, stateBadge, table,
} from "../ui.js";
import { clearErrors, form, showErrors } from "../forms.js";

// This page's own words (the shared word lists are kept by the console's core).
const WORDS = {
  zh: {
    search: "搜索", q: "编号、客户姓名、电话或房号", qHint: "部分匹配，不区分大小写",
    filters: "筛选", all: "全部", status: "状态", project: "项目", category: "类别", channel: "渠道",
    department: "责任部门", handler: "责任人", from: "登记日期从", to: "登记日期至", overdue: "只看超期",
    due: "要求完成", dueToday: "今日要求完成（在办）",
    sort: "排序", limit: "每页", find: "查询", reset: "清除筛选", results: "查询结果",
    count: "共 {total} 条，显示第 {first}–{last} 条", none: "没有符合条件的投诉。",
    prev: "上一页", next: "下一页", exportCsv: "导出 CSV", exportXlsx: "导出 XLSX",
    exporting: "正在导出…", exported: "已导出 {n} 条", handlerChip: "责任人：{name}", remove: "取消",
    phone: "电话", recordedBy: "登记人", voided: "已作废",
    sorts: {
      "-recorded_at": "登记时间（新→旧）", recorded_at: "登记时间（旧→新）",
      requested_completion_at: "要求完成时间（早→晚）", "-requested_completion_at": "要求完成时间（晚→早）",
      "-updated_at": "最近更新", id: "投诉编号",
    },
  },
  en: {
    search: "Search", q: "Id, customer name, phone or room", qHint: "Any part, any case",
    filters: "Filters", all: "All", status: "Status", project: "Project", category: "Category", channel: "Channel",
    department: "Department", handler: "Handler", from: "Recorded from", to: "Recorded to", overdue: "Overdue only",
    due: "Asked for", dueToday: "Today (in work)",
    sort: "Sort", limit: "Per page", find: "Search", reset: "Clear filters", results: "Results",
    count: "{total} found, showing {first}–{last}", none: "No complaint matches.",
    prev: "Previous", next: "Next", exportCsv: "Export CSV", exportXlsx: "Export XLSX",
    exporting: "Exporting…", exported: "{n} rows exported", handlerChip: "Handler: {name}", remove: "Remove",
    phone: "Phone", recordedBy: "Recorded by", voided: "Voided",
    sorts: {
      "-recorded_at": "Recorded (newest first)", recorded_at: "Recorded (oldest first)",
      requested_completion_at: "Requested by (soonest first)", "-requested_completion_at": "Requested by (latest first)",
      "-updated_at": "Last changed", id: "Complaint id",
    },
  },
}[lang];
const w = (key, vars = {}) => WORDS[key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));

// The query string's keys this page keeps (the API's names).
const FILTERS = ["q", "status", "project_id", "category", "channel", "department_id", "handler_id",
  "from", "to", "due", "overdue", "sort"];
const LIMITS = ["20", "50", "100"];
const DEFAULT_SORT = "-recorded_at";

function current() {
  const params = new URLSearchParams(location.search);
  const query = {};
  for (const key of [...FILTERS, "limit", "offset"]) {
    const value = params.get(key);
    if (value !== null && value !== "") query[key] = value;
  }
  return query;
}

function urlOf(query) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = params.toString();
  return location.pathname + (text ? "?" + text : "");
}

const options = (kind, codes) => [["", w("all")], ...codes.map((code) => [code, label(kind, code)])];

function filterFields(projects) {
  const states = [...codesOf("state"), "voided"];
  return [
    { name: "q", label: w("search"), type: "search", inputmode: "search" },
    { name: "status", label: w("status"), type: "select",
      options: [["", w("all")], ...states.map((s) => [s, s === "voided" ? w("voided") : label("state", s)])] },
    { name: "project_id", label: w("project"), type: "select",
      options: [["", w("all")], ...projects.map((p) => [p.id, p.name || p.id])] },
    { name: "category", label: w("category"), type: "select", options: options("category", codesOf("category")) },
    { name: "channel", label: w("channel"), type: "select", options: options("channel", codesOf("channel")) },
    { name: "department_id", label: w("department"), type: "select", options: options("department", codesOf("department")) },
    { name: "from", label: w("from"), type: "date" },
    { name: "to", label: w("to"), type: "date" },
    { name: "due", label: w("due"), type: "select", options: [["", w("all")], ["today", w("dueToday")]] },
    { name: "sort", label: w("sort"), type: "select", options: Object.entries(WORDS.sorts) },
    { name: "limit", label: w("limit"), type: "select", options: LIMITS.map((n) => [n, n]) },
    { name: "overdue", label: w("overdue"), type: "checkbox" },
  ];
}

function setControls(formEl, query) {
  for (const name of [...FILTERS, "limit"]) {
    const control = formEl.querySelector(`[name="${name}"]`);
    if (!control) continue;
    if (control.type === "checkbox") control.checked = query[name] === "true";
    else control.value = query[name] ?? (name === "sort" ? DEFAULT_SORT : name === "limit" ? LIMITS[0] : "");
  }
}

function rowsTable(items) {
  return table([
    { label: t("col.id"), value: (c) => complaintLink(c.id), class: "nowrap" },
    { label: t("col.state"), value: (c) => (c.state === "voided" ? badge(w("voided")) : stateBadge(c.state, c.state_label)) },
    { label: t("col.project"), value: (c) => `${c.project_name || c.project_id} ${c.room}` },
    { label: t("col.customer"), value: (c) => c.customer_name, class: "nowrap" },
    { label: w("phone"), value: (c) => (c.customer_phone ? h("a", { href: `tel:${c.customer_phone}`, text: c.customer_phone }) : ""), class: "nowrap" },
    { label: t("col.category"), value: (c) => label("category", c.category, c.category_label) },
    { label: w("channel"), value: (c) => label("channel", c.channel, c.channel_label) },
    { label: t("col.department"), value: (c) => (c.department ? label("department", c.department, c.department_label) : "") },
    { label: t("col.handler"), value: (c) => (c.handler_id ? handlerLink(c) : "") },
    { label: t("col.recorded"), value: (c) => fmtTime(c.recorded_at) },
    { label: t("col.requested"), value: (c) => fmtTime(c.requested_completion_at) },
  ], items, { caption: w("results"), empty: w("none"), quiet: true });
}

function handlerLink(c) {
  const query = { ...current(), handler_id: c.handler_id };
  delete query.offset;
  return h("a", { href: urlOf(query), text: c.handler_name || c.handler_id, dataset: { handler: c.handler_name || "" } });
}

start().then(async (me) => {
  let projects = [];
  try {
    projects = (await get("/api/projects", { limit: 500 })).items;
  } catch { /* the project filter then offers only "all"; the list still works */ }
  if (!me.roles.some((r) => ["centre_gm", "centre_deputy_gm", "centre_staff", "vp", "admin"].includes(r))) {
    projects = projects.filter((p) => (me.project_ids || []).includes(p.id));
  }
  const fields = filterFields(projects);
  const filters = form({
    className: "inline filters", fields, submitText: w("find"),
    async submit(values) {
      const query = {};
      for (const name of FILTERS) {
        const value = values[name];
        if (name === "overdue") { if (value) query.overdue = "true"; continue; }
        if (value !== null && value !== undefined && value !== "" && !(name === "sort" && value === DEFAULT_SORT)) query[name] = value;
      }
      const kept = current().handler_id;
      if (kept) query.handler_id = kept;
      if (values.limit && values.limit !== LIMITS[0]) query.limit = values.limit;
      history.pushState(null, "", urlOf(query));
      await load();
    },
    extra: [h("a", { class: "button", href: location.pathname, text: w("reset") })],
  });
  // the search box first; the other filters fold away on a phone
  const search = filters.querySelector('input[name="q"]');
  search.placeholder = w("q");
  search.title = w("qHint");
  const more = h("details", { class: "more" }, h("summary", { text: w("filters") }),
    h("div", { class: "more-fields" }, [...filters.querySelectorAll(".field")].filter((f) => f.dataset.name !== "q")));
  filters.querySelector('.field[data-name="q"]').after(more);
  const wide = window.matchMedia("(min-width: 641px)").matches;
  const chips = h("div", { class: "buttons" });
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const pager = h("div", { class: "buttons pager" });
  const results = h("div", {});
  const bar = progress();
  bar.el.hidden = true;
  const exports = h("div", { class: "buttons" }, exportButton("csv"), exportButton("xlsx"), bar.el);

  fill(section(t("nav.complaints"), filters, chips),
    section(w("results"), h("div", { class: "toolbar" }, status, exports), results, pager));

  function exportButton(format) {
    return h("button", {
      type: "button", text: w(format === "csv" ? "exportCsv" : "exportXlsx"),
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        bar.el.hidden = false;
        bar.set(null, w("exporting"));
        const query = { ...current(), format };
        delete query.limit;
        delete query.offset;
        try {
          const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
          await download(urlOf(query).replace(location.pathname, "/api/complaints/export"),
            `complaints-${stamp}.${format}`, { onProgress: (f) => bar.set(f, w("exporting")) });
          bar.set(1, w("exported", { n: lastTotal }));
        } catch (error) {
          bar.set(0, errorText(error));
        } finally {
          button.disabled = false;
        }
      },
    });
  }

  let lastTotal = 0;
  async function load() {
    const query = current();
    setControls(filters, query);
    clearErrors(filters);
    more.open = wide || Object.keys(query).some((key) => !["q", "offset"].includes(key));
    replace(chips, query.handler_id ? h("span", { class: "badge" },
      w("handlerChip", { name: query.handler_name || query.handler_id }), " ",
      h("a", { href: urlOf({ ...query, handler_id: undefined, offset: undefined }), text: w("remove") })) : null);
    results.setAttribute("aria-busy", "true");
    let page;
    try {
      page = await get("/api/complaints", query);
    } catch (error) {
      results.removeAttribute("aria-busy");
      if (error.fields && Object.keys(error.fields).length) showErrors(filters, error);
      replace(results, notice(errorText(error), "error"));
      replace(pager);
      status.textContent = "";
      return;
    }
    results.removeAttribute("aria-busy");
    lastTotal = page.total;
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    status.textContent = w("count", { total: page.total, first, last });
    replace(results, rowsTable(page.items));
    const named = page.items.find((c) => c.handler_id === query.handler_id && c.handler_name);
    if (named) chips.querySelector(".badge")?.firstChild?.replaceWith(w("handlerChip", { name: named.handler_name }));
    const move = (offset) => ({ ...query, offset: offset > 0 ? String(offset) : undefined });
    const step = (text, offset, enabled) => h("a", {
      class: "button", text, href: enabled ? urlOf(move(offset)) : null, "aria-disabled": enabled ? null : "true",
      onclick: enabled ? (event) => { event.preventDefault(); history.pushState(null, "", urlOf(move(offset))); load(); } : null,
    });
    replace(pager,
      step(w("prev"), Math.max(0, page.offset - page.limit), page.offset > 0),
      step(w("next"), page.offset + page.limit, last < page.total));
    announce(status.textContent);
  }

  window.addEventListener("popstate", () => load());
  await load();
}).catch(failPage);
