// `/complaints/<id>`: the whole story on one screen (GET /api/complaints/<id>,
// which puts intake, dispatch, sla and media together): what the viewer's
// role can do now, the deadlines met or missed and by how much, the order and
// its approvals, who answers for it, the departments' work, photos and
// signatures, deductions caused, and the timeline. Every action posts to the
// API, which decides; its per-field errors show beside the fields.
import { ApiError, get, projectNames } from "../api.js";
import { joinList, label, t } from "../i18n.js";
import {
  badge, clock, countdown, definitions, lateText, person, errorText, failPage, fill, fmtTime,
  h, notice, section, start, stateBadge, table,
} from "../ui.js";
import { actionName, actionsCard, word } from "./complaint_actions.js";

const complaintId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/complaints/${encodeURIComponent(complaintId)}`;
// {person_id: name} of the people this complaint names (the gateway's `people`):
// pages show names, the id stays in the title
let PEOPLE = {};
let PROJECTS = {};     // {project id: name}
const who = (id) => person(id, PEOPLE);
const nameOf = (id) => (id && PEOPLE[id]) || id || "";

function mediaById(c) {
  const items = c.media && !c.media.unavailable ? c.media.items || [] : [];
  return new Map(items.map((m) => [m.id, m]));
}

// A signature made from a typed name (the pad's "type your name": media's
// signature_kind "typed") is labelled so, never passed off as a drawn one.
const typed = (media) => media?.kind === "signature" && media.signature_kind === "typed";

function thumb(media, caption) {
  if (!media) return null;
  const text = caption || (typed(media) ? t("ca.typed")
    : label("kind", media.kind) + (media.stage ? ` · ${t("stage." + media.stage)}` : ""));
  // signatures and documents whole (contain), photos fill their tile
  const whole = media.kind === "signature" || media.kind === "material" ? "ca-contain" : null;
  const inner = media.content_type?.startsWith("image/") && media.content_type !== "image/heic"
    ? h("img", { src: media.url, alt: text, class: whole }) : h("span", { class: "file", text: media.content_type });
  return h("figure", { class: "media" }, h("a", { href: media.url, target: "_blank", rel: "noopener noreferrer" }, inner),
    h("figcaption", { text }));
}

function gallery(ids, media) {
  const figures = (ids || []).map((id) => thumb(media.get(id))).filter(Boolean);
  return figures.length ? h("div", { class: "gallery" }, figures) : null;
}

function signatureText(c, media) {
  const s = c.signature || {};
  if (s.status === "signed" && typed(media.get(s.media_id))) return badge(t("ca.typed"), "warn");
  if (s.status !== "pending" || c.state === "voided") return label("signature", s.status);
  const sent = s.links_sent ? word("link_sent", { n: s.links_sent, at: fmtTime(s.link_sent_at), exp: fmtTime(s.link_expires_at) }) : "";
  return h("span", {}, badge(word("unsigned"), "warn"), sent ? h("span", { class: "muted", text: ` ${sent}` }) : null);
}

// An act's stated time against its receipt, and the deputy GM's acceptance.
function statedTime(act, statedAt, receivedAt) {
  if (act.time_accepted) {
    const a = act.time_accepted;
    return [[word("received"), fmtTime(receivedAt)],
      [word("stated"), `${fmtTime(statedAt)} · ${word("accepted", { reason: a.reason, by: a.accepted_by, at: fmtTime(a.accepted_at) })}`]];
  }
  return [[word("received"), fmtTime(receivedAt)], [word("stated"), act.time_acceptable ? h("span", {},
    fmtTime(statedAt), " ", badge(word("late"), "warn")) : null]];
}

function headerCard(c, media) {
  const voided = c.state === "voided" && c.void
    ? notice(word("voided_note", { reason: c.void.reason, by: nameOf(c.void.by), at: fmtTime(c.void.at) }), "warn") : null;
  return h("div", { class: "card head" }, voided,
    h("h1", {}, c.id, " ", stateBadge(c.state, c.state_label),
      c.escalation ? badge(label("level", c.escalation.level, c.escalation.level_label), "warn") : null,
      c.reopen_count ? badge(`${label("action", "reopened")} ×${c.reopen_count}`, "warn") : null),
    definitions([
      [t("c.project"), `${PROJECTS[c.project_id] || c.project_id} · ${c.room}`],
      [t("c.customer"), h("span", {}, `${c.customer_name} · `,
        h("a", { href: `tel:${c.customer_phone}`, text: c.customer_phone }))],
      [t("col.category"), label("category", c.category, c.category_label)],
      [t("c.channel"), label("channel", c.channel)],
      [t("c.recorded"), h("span", {}, `${fmtTime(c.recorded_at)} · `, who(c.recorded_by))],
      [t("c.contact_ended"), fmtTime(c.contact_ended_at)],
      [t("c.requested"), fmtTime(c.requested_completion_at)],
      [t("c.signature"), signatureText(c, media)],
    ]),
    h("h2", { text: t("c.demand") }), h("p", { class: "demand", text: c.demand }));
}

// A missed deadline charged to several people: who was late by how much
// (sla's summary says the same in Chinese only; this is worded from its codes).
function chargeSplit(x) {
  const charges = x.state === "missed" ? x.charges || [] : [];
  if (charges.length < 2) return null;
  const parts = charges.map((ch) => `${label("role", ch.role)} ${nameOf(ch.person_id)} ${lateText((ch.late_seconds || 0) * 1000)}`);
  return h("span", { class: "muted", text: ` · ${t("c.split")}${joinList(parts)}` });
}

// Daily deadlines (progress, overdue days) repeat for weeks: the latest two of
// each stay in sight, the earlier ones fold under one line (a phone showed
// forty cards of them before the deductions).
const REPEATING = new Set(["progress", "overdue"]);
const SHOWN_OF_A_REPEATING_RULE = 2;

function splitEarlier(rows) {
  const later = new Map();
  for (const x of rows) if (REPEATING.has(x.rule)) later.set(x.rule, [...(later.get(x.rule) || []), x]);
  const earlier = new Set([...later.values()].flatMap((xs) => xs.slice(0, -SHOWN_OF_A_REPEATING_RULE)));
  return [rows.filter((x) => !earlier.has(x)), rows.filter((x) => earlier.has(x))];
}

// rows in sight and, when there are more, the rest folded under `summary`
function foldedTable(columns, [shown, rest], options, summary) {
  return [table(columns, shown, options),
    rest.length ? h("details", { class: "ca-earlier" }, h("summary", { text: summary(rest.length) }),
      table(columns, rest, { ...options, empty: null })) : null];
}

function deadlinesCard(c) {
  const d = c.deadlines;
  if (!d || d.unavailable) return section(t("c.deadlines"), notice(`${t("c.unavailable")}: ${d?.reason || ""}`));
  const rows = [...(d.timers || [])].sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at));
  return section(t("c.deadlines"), foldedTable([
    { label: t("col.rule"), value: (x) => `${label("rule", x.rule, x.label)}${x.day ? ` (${x.day})` : ""}` },
    { label: t("col.article"), value: (x) => x.article },
    { label: t("col.person"), value: (x) => h("span", {}, who(x.person_id), x.person_id && x.role ? " · " : "", x.role ? label("role", x.role) : "") },
    { label: t("col.due"), value: (x) => fmtTime(x.due_at) },
    { label: t("col.status"), value: (x) => badge(label("timer", x.state), "timer-" + x.state) },
    {
      label: t("col.result"),
      // a missed completion deadline keeps counting (red) while the complaint is in work
      value: (x) => (x.state === "armed" || (x.state === "missed" && x.rule === "completion" && c.state === "order_signed")
        ? countdown(x.due_at)
        : h("span", {}, x.late_seconds ? lateText(x.late_seconds * 1000) : "", chargeSplit(x))),
    },
  ], splitEarlier(rows), { empty: t("c.deadlines.none") }, (n) => t("c.deadlines.earlier", { n })));
}

function orderCard(c) {
  const o = c.order;
  if (!o) return null;
  return section(t("c.order"),
    definitions([
      [t("col.round"), o.order_round > 1 ? String(o.order_round) : null],
      [label("action", "order_submitted"), o.submitted_at && h("span", {}, `${fmtTime(o.submitted_at)} · `, who(o.submitted_by))],
      [label("action", "order_reviewed"), o.reviewed_at && h("span", {}, `${fmtTime(o.reviewed_at)} · `, who(o.reviewed_by))],
      [label("action", "order_signed"), o.signed_at && h("span", {}, `${fmtTime(o.signed_at)} · `, who(o.signed_by))],
      [t("c.override"), o.department && `${label("department", o.department)}：${o.department_reason || ""}`],
    ]),
    table([
      { label: t("col.role"), value: (x) => label("role", x.role) },
      { label: t("col.person"), value: (x) => who(x.person_id) },
      { label: t("col.from"), value: (x) => fmtTime(x.from) },
      { label: t("col.to"), value: (x) => (x.to ? fmtTime(x.to) : "…") },
    ], o.holders || [], { caption: t("c.holders") }),
    o.decisions?.length ? table([
      { label: t("col.what"), value: (x) => label("action", x.decision === "approve" ? (x.step === "review" ? "order_reviewed" : "order_signed") : `order_${x.step}_rejected`) },
      { label: t("col.by"), value: (x) => who(x.by) },
      { label: t("col.when"), value: (x) => fmtTime(x.at) },
      { label: t("col.note"), value: (x) => x.reason || "" },
    ], o.decisions, { caption: t("c.decisions") }) : null);
}

function contact(p) {
  return p ? `${p.name || nameOf(p.person_id)} · ${p.mobile || ""}`.replace(/ · $/, "") : "";
}

function responsibilityCard(c) {
  const r = c.responsibility;
  if (!r) return section(t("c.responsibility"), h("p", { class: "muted", text: t("c.notrouted") }));
  return section(t("c.responsibility"), definitions([
    [t("col.department"), `${r.department_name || label("department", r.department)} · ${r.unit_name || ""}`],
    [t("c.handler"), contact(r.handler)],
    [t("c.leaders"), (r.leaders || []).map(contact).join(t("msg.sep"))],
    [t("c.chairman"), contact(r.chairman)],
    [t("c.cooperating"), joinList((r.cooperating_departments || []).map((d) => label("department", d.department, d.department_name)))],
    [t("c.override"), r.department_overridden ? r.override_reason || "" : null],
  ]));
}

function workCard(c, media) {
  const w = c.dispatch;
  if (!w) return null;
  if (w.unavailable) return section(t("c.work"), notice(`${t("c.unavailable")}: ${w.reason}`));
  const parts = [h("p", {}, badge(label("dstate", w.state, w.state_label)), w.completion_due_at
    ? h("span", {}, ` ${t("col.due")} ${fmtTime(w.completion_due_at)} `, c.state === "order_signed" ? countdown(w.completion_due_at) : null) : null)];
  for (const v of w.visits || []) {
    parts.push(h("article", { class: "item" },
      h("h3", {}, `${t("c.visits")} · ${label("outcome", v.outcome)} · ${fmtTime(v.happened_at)}`),
      definitions([[t("c.plan"), v.plan], [t("c.agreed"), fmtTime(v.agreed_completion_at)],
        [t("visit.reason"), v.reason], [t("c.signature.status"), label("signature", v.signature_status)], [t("col.by"), who(v.recorded_by)],
        ...statedTime(v, v.happened_at, v.recorded_at)]),
      gallery([...(v.photo_media_ids || []), v.signature_media_id], media)));
  }
  for (const p of w.progress || []) {
    parts.push(h("article", { class: "item" },
      h("h3", {}, `${t("c.progress")} · ${fmtTime(p.recorded_at)} · `, who(p.recorded_by)),
      h("p", { text: p.note }), gallery(p.photo_media_ids, media)));
  }
  for (const a of w.applications || []) {
    parts.push(h("article", { class: "item" },
      h("h3", {}, `${t("c.applications")} · ${fmtTime(a.applied_at)} · `, badge(label("application", a.status))),
      definitions([[t("ca.work_done"), a.work_done], [t("col.by"), who(a.applied_by)], [t("c.satisfaction"), a.satisfaction],
        [t("f.reason"), a.rejection_reason]]),
      gallery([...(a.material_media_ids || []), a.signature_media_id], media)));
  }
  const centre = new Map((c.callbacks || []).map((k) => [k.callback_id, k]));
  for (const k of w.callbacks || []) {
    const mine = centre.get(k.id);
    parts.push(h("article", { class: "item" },
      h("h3", {}, `${t("c.callbacks")} · ${fmtTime(k.callback_at)}`),
      definitions([[t("f.outcome"), label("outcome", k.outcome)], [t("f.note"), k.note], [t("col.by"), who(k.by)],
        ...(mine ? statedTime(mine, mine.callback_at, mine.recorded_at) : [])])));
  }
  if (w.claims?.length) {
    parts.push(table([
      { label: t("col.id"), value: (x) => x.id },
      { label: t("c.amount"), value: (x) => `¥${x.amount_claimed}`, class: "num" },
      { label: t("f.description"), value: (x) => x.description },
      { label: t("col.status"), value: (x) => badge(x.status_label || x.status) },
      { label: t("c.granted"), value: (x) => (x.amount_granted ? `¥${x.amount_granted}` : ""), class: "num" },
      { label: t("col.due"), value: (x) => fmtTime(x.file_due_at || x.report_due_at) },
    ], w.claims, { caption: t("c.claims") }));
  }
  if (w.meetings?.length) {
    parts.push(table([
      { label: t("f.held_at"), value: (x) => fmtTime(x.held_at) },
      { label: t("f.responsible"), value: (x) => x.responsible },
      { label: t("f.solution"), value: (x) => x.solution },
      { label: t("f.due_at"), value: (x) => fmtTime(x.due_at) },
    ], w.meetings, { caption: t("c.meetings") }));
  }
  return section(t("c.work"), ...parts);
}

function closureCard(c, media) {
  if (!c.closures?.length && !c.rating && !c.callbacks?.length) return null;
  return section(`${t("c.closure")} · ${t("c.rating")}`,
    c.closures?.length ? table([
      { label: t("col.id"), value: (x) => x.application_id },
      { label: t("col.status"), value: (x) => badge(x.status_label || x.status) },
      { label: t("c.applications"), value: (x) => `${fmtTime(x.applied_at)} · ${x.applied_by}` },
      { label: t("c.satisfaction"), value: (x) => (x.satisfaction ? "★".repeat(x.satisfaction) : "") },
      { label: t("f.comment"), value: (x) => x.comment || x.rejection_reason || "" },
    ], c.closures, { caption: t("c.applications") }) : null,
    c.rating ? definitions([[t("c.rating"), `${"★".repeat(c.rating.score)} ${c.rating.score}/5 · ${t("via." + c.rating.via)} · ${fmtTime(c.rating.rated_at)}`],
      [t("f.note"), c.rating.comment]]) : null,
    gallery([c.signature?.media_id], media));
}

function mediaCard(c) {
  const m = c.media;
  if (!m) return null;
  if (m.unavailable) return section(t("c.media"), notice(`${t("c.unavailable")}: ${m.reason}`));
  const figures = (m.items || []).map((item) => thumb(item));
  return section(t("c.media"), figures.length ? h("div", { class: "gallery" }, figures) : h("p", { class: "muted", text: t("c.none") }));
}

// Deductions this complaint caused: the ledger of the months it has been open
// in (penalty's ledger has no complaint filter yet, so the lines are picked
// out here). Readers without ledger access see their own lines only.
const SHOWN_DEDUCTIONS = 6;

async function deductionsCard(c) {
  const months = [];
  const first = new Date(Date.parse(c.recorded_at));
  const now = clock.now();
  for (let d = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)); d <= now && months.length < 6;
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) months.push(d.toISOString().slice(0, 7));
  try {
    const pages = await Promise.all(months.map((month) => get("/api/deductions", { month, limit: 1000 })));
    // the latest first; past a screenful the earlier lines fold
    const lines = pages.flatMap((p) => p.items).filter((x) => x.complaint_id === c.id)
      .sort((a, b) => Date.parse(b.charged_at) - Date.parse(a.charged_at));
    return section(t("c.deductions"), foldedTable([
      { label: t("col.person"), value: (x) => x.person_name ? h("span", { title: x.person_id, text: x.person_name }) : who(x.person_id) },
      { label: t("col.rule"), value: (x) => label("rule", x.rule) },
      { label: t("col.article"), value: (x) => x.article },
      { label: t("col.amount"), value: (x) => (x.amount ? `¥${x.amount}` : `${x.bonus_percent}%`), class: "num" },
      { label: t("col.when"), value: (x) => fmtTime(x.charged_at) },
      { label: t("col.note"), value: (x) => (x.reverses ? `↩ ${x.reverses}` : x.reversed_by ? `↩ ${x.reversed_by}` : "") },
    ], [lines.slice(0, SHOWN_DEDUCTIONS), lines.slice(SHOWN_DEDUCTIONS)],
    { caption: t("c.deductions"), empty: t("c.deductions.none") }, (n) => t("c.deductions.earlier", { n })));
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return null;
    return section(t("c.deductions"), notice(errorText(error)));
  }
}

// intake's timeline and dispatch's history, once: a step both record (intake
// hears of the department's steps by event) is shown as intake has it.
function timelineCard(c) {
  const entries = (c.timeline || []).map((e) => ({ ...e, source: "intake" }));
  const near = (a, b) => Math.abs(Date.parse(a.at) - Date.parse(b.at)) < 5 * 60000;
  if (c.dispatch && !c.dispatch.unavailable) {
    for (const e of c.dispatch.history || []) {
      if (!entries.some((x) => x.source === "intake" && x.action === e.action
        && x.order_round === e.order_round && (e.action === "routed" || near(x, e)))) {
        entries.push({ ...e, source: "dispatch" });
      }
    }
  }
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return section(t("c.timeline"), h("ol", { class: "timeline" }, entries.map((e) => h("li", {},
    h("time", { datetime: e.at, text: fmtTime(e.at) }), " ",
    h("strong", { text: actionName(e.action) }),
    e.actor_id ? [" · ", who(e.actor_id)] : e.actor_role ? ` · ${label("role", e.actor_role)}` : "",
    e.to_state && e.to_state !== e.from_state
      ? h("span", { class: "muted", text: ` → ${e.to_state === "voided" ? word("voided")
        : label(e.source === "dispatch" ? "dstate" : "state", e.to_state)}` }) : null,
    e.note ? h("p", { class: "note", text: e.note }) : null))));
}

async function render(me, message) {
  const [c, projects] = await Promise.all([get(base), projectNames()]);
  PEOPLE = c.people || {};
  PROJECTS = projects;
  const media = mediaById(c);
  const reload = (text) => render(me, text);
  const deductions = await deductionsCard(c);
  fill(
    message ? notice(message, "ok") : null,
    headerCard(c, media),
    actionsCard(me, c, reload),
    deadlinesCard(c),
    orderCard(c),
    responsibilityCard(c),
    workCard(c, media),
    closureCard(c, media),
    mediaCard(c),
    deductions,
    timelineCard(c),
    h("p", {}, h("button", { type: "button", text: t("c.refresh"), onclick: () => reload() })));
  document.title = `${c.id} · ${t("c.title")}`;
  if (message) document.querySelector("#main").focus();
}

start().then((me) => render(me)).catch(failPage);
