// `/board`: the centre's overdue board (GET /api/board/overdue): open
// complaints past their completion deadline by days overdue and tier, by
// company and department; polled while the page is visible.
import { get } from "../api.js";
import { label, t } from "../i18n.js";
import {
  announce, badge, complaintLink, errorText, failPage, fill, fmtTime, h, notice, replace, section, start,
  table,
} from "../ui.js";

// every 15 s; `?every=N` (2 s at least) for a wall display or a demo
const asked = Number(new URLSearchParams(location.search).get("every"));
const POLL_SECONDS = asked >= 2 ? asked : 15;

function tierCards(items) {
  return h("div", { class: "tiers" }, [1, 2, 3].map((tier) => {
    const n = items.filter((i) => i.tier === tier).length;
    return h("div", { class: `tier tier-${tier}`, "data-tier": tier },
      h("span", { class: "count", text: String(n) }), h("span", { text: t(`board.tier${tier}`) }));
  }));
}

function grouped(items, key, name) {
  const groups = new Map();
  for (const item of items) {
    const id = item[key] || "—";
    const g = groups.get(id) || { name: item[name] || id, counts: [0, 0, 0], max: 0 };
    g.counts[item.tier - 1] += 1;
    g.max = Math.max(g.max, item.days_overdue);
    groups.set(id, g);
  }
  return [...groups.values()].sort((a, b) => b.max - a.max);
}

function groupTable(title, rows) {
  return table([
    { label: t("col.name"), value: (g) => g.name },
    { label: label("tier", 1), value: (g) => String(g.counts[0]), class: "num" },
    { label: label("tier", 2), value: (g) => String(g.counts[1]), class: "num" },
    { label: label("tier", 3), value: (g) => String(g.counts[2]), class: "num" },
    { label: t("col.maxdays"), value: (g) => String(g.max), class: "num" },
  ], rows, { caption: title, quiet: true });
}

let lastCount = null;
let lastBoard = null;

// The filters live in the URL (?project=&department=&step=): a filtered board
// can be bookmarked, shared, or put on a wall display.
const FILTERS = ["project", "department", "step"];
const KEYS = { project: "project_id", department: "department", step: "step" };
const filters = () => {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(FILTERS.map((f) => [f, params.get(f) || ""]));
};
const stepName = (i) => label("dstate", i.step, i.step_label) || "–";

function setFilter(name, value) {
  const params = new URLSearchParams(location.search);
  if (value) params.set(name, value); else params.delete(name);
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
}

function filterBar(all, chosen, redraw) {
  const options = (key, name) => {
    const seen = new Map();
    for (const i of all) if (i[KEYS[key]]) seen.set(i[KEYS[key]], name(i));
    if (chosen[key] && !seen.has(chosen[key])) seen.set(chosen[key], chosen[key]);
    return [...seen].sort((a, b) => String(a[1]).localeCompare(String(b[1]), "zh-CN"));
  };
  const select = (key, text, name) => {
    const id = "board-" + key;
    const el = h("select", { id, name: key, onchange: (e) => { setFilter(key, e.target.value); redraw(); } },
      h("option", { value: "", text: t("ca.all") }),
      options(key, name).map(([value, shown]) => h("option", { value, text: shown })));
    el.value = chosen[key];
    return h("div", { class: "field" }, h("label", { for: id, text }), el);
  };
  const any = FILTERS.some((f) => chosen[f]);
  return h("div", { class: "ca-filters", role: "search", "aria-label": t("ca.filters") },
    select("project", t("col.project"), (i) => i.project_id),
    select("department", t("col.department"), (i) => i.department_name || label("department", i.department)),
    select("step", t("ca.step"), stepName),
    any ? h("button", { type: "button", class: "link", text: t("ca.clear"),
      onclick: () => { FILTERS.forEach((f) => setFilter(f, "")); redraw(); } }) : null);
}

async function refresh(me, bar) {
  let board;
  try {
    board = await get("/api/board/overdue");
  } catch (error) {
    bar.status.replaceChildren(notice(errorText(error), "error"));
    return;
  }
  lastBoard = board;
  draw(bar);
}

function draw(bar) {
  const board = lastBoard;
  const chosen = filters();
  const items = board.items.filter((i) => FILTERS.every((f) => !chosen[f] || i[KEYS[f]] === chosen[f]));
  if (lastCount !== null && lastCount !== items.length) announce(`${t("board.list")}: ${items.length}`);
  lastCount = items.length;
  bar.status.replaceChildren(`${t("board.asof")} ${fmtTime(board.as_of)} · ${t("board.in_work", { n: board.in_work })}`);
  replace(bar.body,
    board.truncated ? notice(t("board.truncated", { n: board.in_work })) : null,
    filterBar(board.items, chosen, () => draw(bar)),
    items.length < board.items.length ? h("p", { class: "muted", text: t("ca.filtered", { n: items.length, of: board.items.length }) }) : null,
    tierCards(items),
    items.length ? h("div", { class: "columns" },
      section(t("board.by_company"), groupTable(t("board.by_company"), grouped(items, "company_id", "company_name"))),
      section(t("board.by_department"), groupTable(t("board.by_department"),
        grouped(items, "department", "department_name")))) : null,
    section(t("board.list"), table([
      { label: t("col.id"), value: (i) => complaintLink(i.complaint_id) },
      { label: t("col.days"), value: (i) => String(i.days_overdue), class: "num" },
      { label: t("col.tier"), value: (i) => badge(label("tier", i.tier), `tier-${i.tier}`) },
      { label: t("col.project"), value: (i) => `${i.project_id} ${i.room || ""}` },
      { label: t("col.company"), value: (i) => i.company_name || "" },
      { label: t("col.department"), value: (i) => i.department_name || label("department", i.department) },
      { label: t("col.handler"), value: (i) => i.handler_name || i.handler_id || "" },
      { label: t("col.due"), value: (i) => fmtTime(i.completion_due_at) },
      // where the late work stands: the step the department has not got past
      { label: t("ca.step"), value: (i) => h("span", { class: "ca-step" }, badge(stepName(i), "warn"),
        h("small", { class: "muted", text: ` · ${t("ca.step.late", { n: i.days_overdue })}` })) },
    ], items, { caption: t("board.list"), empty: t("board.none"), quiet: true })));
}

start().then(async (me) => {
  const bar = { status: h("p", { class: "muted", "aria-live": "off" }), body: h("div", {}) };
  const again = h("button", { type: "button", text: t("board.refresh"), onclick: () => refresh(me, bar) });
  const main = fill(h("h1", { text: t("board.title") }),
    h("div", { class: "toolbar" }, bar.status, again,
      h("span", { class: "muted", text: t("board.auto", { s: POLL_SECONDS }) })),
    bar.body);
  // Busy until the first list is drawn, not merely the frame around it.
  main.setAttribute("aria-busy", "true");
  await refresh(me, bar);
  main.removeAttribute("aria-busy");
  setInterval(() => { if (!document.hidden) refresh(me, bar); }, POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(me, bar); });
}).catch(failPage);
