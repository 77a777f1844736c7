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

async function refresh(me, bar) {
  let board;
  try {
    board = await get("/api/board/overdue");
  } catch (error) {
    bar.status.replaceChildren(notice(errorText(error), "error"));
    return;
  }
  const items = board.items;
  if (lastCount !== null && lastCount !== items.length) announce(`${t("board.list")}: ${items.length}`);
  lastCount = items.length;
  bar.status.replaceChildren(`${t("board.asof")} ${fmtTime(board.as_of)} · ${t("board.in_work", { n: board.in_work })}`);
  replace(bar.body,
    board.truncated ? notice(t("board.truncated", { n: board.in_work })) : null,
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
