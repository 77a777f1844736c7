// `/`: sign-in with a person's token, then "my work" by role (GET /api/me,
// GET /api/complaints?assigned_to_me=true): what waits on me, grouped by
// step; the department's complaints with their next deadline counting down;
// HR's and Finance's monthly report; the admin's simulation clock.
import { ApiError, call, get, post, session } from "../api.js";
import { label, t, translate } from "../i18n.js";
import { previousMonth, reportCard } from "../report.js";
import {
  CENTRE, clock, complaintLink, countdown, errorText, fill, fmtTime, h, hasRole, header, notice,
  section, stateBadge, table,
} from "../ui.js";
import { form } from "../forms.js";

const QUEUE_ORDER = ["order_drafted", "order_submitted", "order_reviewed", "closure_applied",
  "closure_verified", "closure_reviewed", "order_signed", "received", "closed"];

function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

// Signing in is the sign-in page's (/signin, pages/signin.js): "/" only sends
// people there, with the page they wanted (`next`) kept.
function signIn() {
  location.replace("/signin" + location.search);
}

function openById() {
  return section(t("work.open"), form({
    className: "inline",
    fields: [{ name: "id", label: t("work.open.id"), required: true }],
    submitText: t("work.go"),
    async submit(values) {
      if (values.id) location.assign("/complaints/" + encodeURIComponent(values.id.trim()));
    },
  }));
}

async function nextDeadline(complaintId) {
  try {
    const { timers } = await get(`/api/complaints/${encodeURIComponent(complaintId)}/deadlines`);
    // a missed completion deadline (the complaint is still in work) comes
    // first, red "已超期 N 天"; then the running clocks, earliest first
    const byDue = (a, b) => Date.parse(a.due_at) - Date.parse(b.due_at);
    const late = timers.filter((x) => x.state === "missed" && x.rule === "completion").sort(byDue);
    const running = timers.filter((x) => x.state === "armed").sort(byDue);
    const first = late[0] || running[0];
    if (!first) return h("span", { class: "muted", text: t("work.nodeadline") });
    return h("span", {}, h("span", { class: "rule", text: label("rule", first.rule, first.label) }), " ",
      countdown(first.due_at), h("small", { class: "muted", text: ` (${fmtTime(first.due_at)})` }));
  } catch (error) {
    return h("span", { class: "muted", text: errorText(error) });
  }
}

const SHOWN = 20;

function queueTable(items, withDeadline) {
  const columns = [
    { label: t("col.id"), value: (c) => complaintLink(c.id) },
    { label: t("col.project"), value: (c) => `${c.project_name || c.project_id} ${c.room}` },
    { label: t("col.customer"), value: (c) => c.customer_name },
    { label: t("col.category"), value: (c) => label("category", c.category, c.category_label) },
    { label: t("col.state"), value: (c) => stateBadge(c.state, c.state_label) },
    { label: t("col.recorded"), value: (c) => fmtTime(c.recorded_at) },
  ];
  if (withDeadline) {
    columns.push({
      label: t("work.next"),
      value: (c) => { const cell = h("span", { class: "muted", text: "…" }); nextDeadline(c.id).then((n) => cell.replaceWith(n)); return cell; },
    });
  }
  if (items.length <= SHOWN) return table(columns, items);
  // pages of SHOWN rows: every item is reachable, none is cut off
  const pages = Math.ceil(items.length / SHOWN);
  const box = h("div", { class: "ca-paged" });
  const show = (n) => {
    const status = h("span", { class: "muted", "aria-live": "polite",
      text: t("ca.page", { n: n + 1, of: pages, total: items.length }) });
    box.replaceChildren(table(columns, items.slice(n * SHOWN, (n + 1) * SHOWN)),
      h("div", { class: "buttons ca-pager" },
        h("button", { type: "button", text: t("ca.prev"), disabled: n === 0, onclick: () => show(n - 1) }),
        status,
        h("button", { type: "button", text: t("ca.next"), disabled: n === pages - 1, onclick: () => show(n + 1) })));
  };
  show(0);
  return box;
}

// Everything waiting on me, page after page of the API (100 a page), not the first 100 only.
async function allMine() {
  const items = [];
  for (let offset = 0; offset < 2000; offset += 100) {
    const page = await get("/api/complaints", { assigned_to_me: true, limit: 100, offset });
    items.push(...page.items);
    if (offset + 100 >= page.total || !page.items.length) break;
  }
  return items;
}

async function myQueue(me) {
  const mine = await allMine();
  if (!mine.length) return [section(t("work.title"), h("p", { class: "muted", text: t("work.none") }))];
  const callbacks = mine.filter((c) => c.callback_due && hasRole(me, CENTRE, "specialist"));
  const groups = new Map();
  for (const c of mine) {
    if (callbacks.includes(c)) continue;
    if (!groups.has(c.state)) groups.set(c.state, []);
    groups.get(c.state).push(c);
  }
  const out = [];
  if (callbacks.length) out.push(section(t("work.callback"), queueTable(callbacks, false)));
  for (const state of QUEUE_ORDER) {
    if (groups.has(state)) out.push(section(t("queue." + state), queueTable(groups.get(state), state === "order_signed")));
  }
  return out;
}

// The GM's and deputy GM's watch (issue 14): how many complaints are past
// their completion deadline (sla's count, GET /api/complaints?overdue=true)
// and how many in work are asked to be complete today (intake's count,
// GET /api/complaints?due=today, on the shared clock's date in the group's
// zone), each linked to the list filtered the same way.
export const WATCHERS = ["centre_gm", "centre_deputy_gm"];

function watchLink(count, text, href, late) {
  return h("a", { class: `watch${late && count ? " late" : ""}`, href },
    h("strong", { class: "watch-count", text: String(count) }), h("span", { text }));
}

async function watch() {
  const count = (filter) => get("/api/complaints", { ...filter, limit: 1 }).then((p) => p.total);
  const [overdue, dueToday] = await Promise.all([count({ overdue: true }), count({ due: "today" })]);
  return section(t("work.watch"), h("div", { class: "watch-row" },
    watchLink(overdue, t("work.overdue"), "/complaints?overdue=true", true),
    watchLink(dueToday, t("work.duetoday"), "/complaints?due=today", false)));
}

async function recent(me) {
  const page = await get("/api/complaints", { page_size: 10 });
  return section(t("work.recent"), queueTable(page.items, false));
}

function clockCard() {
  const now = h("p", { class: "clock-now" });
  const show = () => {
    now.replaceChildren(h("strong", { text: fmtTime(clock.inputValue()) }),
      " ", h("span", { class: "badge", text: clock.simulated ? t("clock.simulated") : t("clock.real") }));
  };
  show();
  const step = (text, advance) => h("button", {
    type: "button", text, "aria-label": `${t("clock.advance")} ${text}`,
    onclick: async () => { await post("/api/admin/clock", { advance }); await clock.sync(); show(); },
  });
  return section(t("clock.title"), now,
    h("div", { class: "buttons" }, `${t("clock.advance")}: `,
      step("+30′", "PT30M"), step("+1h", "PT1H"), step("+1d", "P1D"), step("+7d", "P7D")),
    form({
      className: "inline",
      fields: [{ name: "now", label: t("clock.set"), type: "datetime", required: true, value: clock.inputValue() }],
      submitText: t("clock.set"),
      async submit(values) { await post("/api/admin/clock", { now: values.now }); await clock.sync(); show(); },
    }));
}

async function main() {
  translate();
  if (!session.token) return signIn();
  let me;
  try {
    [me] = await Promise.all([get("/api/me"), clock.sync()]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signIn();
    header(null);
    return fill(notice(errorText(error), "error"));
  }
  header(me);
  const next = nextPath();
  if (next) return location.replace(next);
  const parts = [h("h1", { text: `${t("work.title")} · ${me.name}` })];
  try {
    if (hasRole(me, "admin")) parts.push(clockCard());
    if (hasRole(me, WATCHERS)) {
      parts.push(await watch().catch((error) => section(t("work.watch"), notice(errorText(error), "error"))));
    }
    parts.push(...await myQueue(me));
    if (hasRole(me, "hr", "finance")) {
      const month = previousMonth(clock.inputValue().slice(0, 7));
      parts.push(section(`${t("work.report")} ${month}`, await reportCard(me, month, { full: false }),
        h("p", {}, h("a", { href: "/reports?month=" + month, text: t("nav.reports") }))));
    }
    if (hasRole(me, "specialist")) parts.push(await recent(me));
  } catch (error) {
    parts.push(notice(errorText(error), "error"));
  }
  parts.push(openById());
  fill(...parts);
}

main();
