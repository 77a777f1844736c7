// `/complaints/<id>`: the whole story on one screen (GET /api/complaints/<id>,
// which puts intake, dispatch, sla and media together): what the viewer's
// role can do now, the deadlines met or missed and by how much, the order and
// its approvals, who answers for it, the departments' work, photos and
// signatures, deductions caused, and the timeline. Every action posts to the
// API, which decides; its per-field errors show beside the fields.
import { ApiError, get, post } from "../api.js";
import { codesOf, label, lang, say, t } from "../i18n.js";
import { mediaUploader } from "../media.js";
import {
  CENTRE, badge, clock, countdown, definitions, lateText, person, errorText, failPage, fill, fmtTime,
  form, h, hasRole, notice, section, start, stateBadge, table,
} from "../ui.js";

const complaintId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/complaints/${encodeURIComponent(complaintId)}`;
// {person_id: name} of the people this complaint names (the gateway's `people`):
// pages show names, the id stays in the title
let PEOPLE = {};
const who = (id) => person(id, PEOPLE);
const nameOf = (id) => (id && PEOPLE[id]) || id || "";

const DEPARTMENT_ROLES = ["head", "department_staff"];
const VOIDABLE = ["received", "order_drafted", "order_submitted", "order_reviewed"];

// Words of issue 13's acts (void, a new signing link, accepted stated times);
// zh-CN first, English when the console is in English.
const ACT_WORDS = {
  zh: {
    void: "作废投诉（登记有误）", voided: "已作废", voided_note: "此投诉已作废，仅供查阅：{reason}（{by}，{at}）",
    resend: "重新发送签名链接", unsigned: "客户未签名", link_sent: "签名链接已发送 {n} 次，最近一次 {at}，{exp} 失效",
    accept: "认可陈述时间", stated: "陈述时间", received: "登记时间",
    late: "陈述时间早于登记时间超过宽限，按登记时间计时（可由副总经理认可）",
    accepted: "陈述时间已认可：{reason}（{by}，{at}）",
    "action.voided": "作废投诉", "action.signing_link_resent": "重新发送签名链接",
    "action.callback_time_accepted": "认可回访陈述时间", "action.visit_time_accepted": "认可上门陈述时间",
  },
  en: {
    void: "Void (recorded by mistake)", voided: "Voided", voided_note: "This complaint was voided and is kept for the audit: {reason} ({by}, {at})",
    resend: "Re-send the signing link", unsigned: "Customer has not signed", link_sent: "Signing link sent {n}×, last {at}, expires {exp}",
    accept: "Accept the stated time", stated: "Stated time", received: "Received",
    late: "Stated time precedes the receipt by more than the grace: judged by the receipt unless the deputy GM accepts it",
    accepted: "Stated time accepted: {reason} ({by}, {at})",
    "action.voided": "Voided", "action.signing_link_resent": "Signing link re-sent",
    "action.callback_time_accepted": "Callback time accepted", "action.visit_time_accepted": "Visit time accepted",
  },
};
function word(key, vars = {}) {
  const text = (ACT_WORDS[lang] || ACT_WORDS.zh)[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name] ?? "") : ""));
}
function actionName(code) {
  const known = label("action", code);
  return known === code && ACT_WORDS.zh["action." + code] ? word("action." + code) : known;
}
const reasonField = () => [{ name: "reason", label: t("f.reason"), type: "textarea", required: true }];

const decision = () => [
  { name: "decision", label: t("f.decision"), type: "radio", required: true, value: "approve",
    options: [["approve", t("d.approve")], ["reject", t("d.reject")]] },
  { name: "reason", label: t("f.reason"), type: "textarea", hint: t("f.optional") },
];
const stars = (name, labelText, required = true) => ({
  name, label: labelText, type: "stars", number: true, required,
  options: [1, 2, 3, 4, 5].map((n) => [String(n), "★".repeat(n) + ` ${n}`]),
});

// What the viewer's role may try at this step; the API checks again.
function actionsFor(me, c) {
  if (c.state === "voided") return [];              // no step acts on a voided complaint
  const open = c.state !== "closed";
  const work = c.dispatch && !c.dispatch.unavailable ? c.dispatch : {};
  const list = [
    { key: "a.submit", roles: ["specialist"], when: c.state === "order_drafted", path: "order/submit", fields: [] },
    { title: word("resend"), roles: [...CENTRE, "specialist"], when: c.signature?.may_resend, path: "signing-link", fields: [] },
    { title: word("void"), roles: ["centre_deputy_gm"], when: VOIDABLE.includes(c.state) && (c.order?.order_round || 1) === 1,
      path: "void", fields: reasonField() },
    { key: "a.review", roles: ["centre_deputy_gm"], when: c.state === "order_submitted", path: "order/review", fields: decision() },
    {
      key: "a.sign", roles: ["centre_gm"], when: c.state === "order_reviewed", path: "order/sign",
      fields: [...decision(),
        { name: "department", label: t("f.department"), type: "select",
          options: [["", t("f.none")], ...codesOf("department").map((d) => [d, label("department", d)])] },
        { name: "department_reason", label: t("f.department_reason"), type: "textarea" }],
    },
    {
      key: "a.callback", roles: [...CENTRE, "specialist"], when: c.callback?.due, path: "callbacks",
      fields: [{ name: "outcome", label: t("f.outcome"), type: "radio", required: true,
        options: ["reached", "unreachable", "declined"].map((o) => [o, label("outcome", o)]) },
      { name: "callback_at", label: t("f.callback_at"), type: "datetime", value: clock.inputValue() },
      { name: "note", label: t("f.note"), type: "textarea" }],
    },
    {
      key: "a.verify", roles: ["specialist"], when: c.state === "closure_applied", path: "closure/verify",
      fields: [decision()[0], stars("satisfaction", t("f.satisfaction"), false),
        { name: "comment", label: t("f.comment"), type: "textarea" }, decision()[1]],
    },
    { key: "a.closure_review", roles: ["centre_deputy_gm"], when: c.state === "closure_verified", path: "closure/review", fields: decision() },
    { key: "a.closure_approve", roles: ["centre_gm"], when: c.state === "closure_reviewed", path: "closure/approve", fields: decision() },
    { key: "a.reopen", roles: ["specialist"], when: c.state === "closed", path: "reopen",
      fields: [{ name: "reason", label: t("f.reason"), type: "textarea", required: true }] },
    {
      key: "a.escalate", roles: ["centre_gm"], when: open && !c.escalation, path: "escalate",
      fields: [{ name: "level", label: t("f.level"), type: "select", required: true,
        options: codesOf("level").map((l) => [l, label("level", l)]) },
      { name: "reason", label: t("f.reason"), type: "textarea", required: true }],
    },
    { key: "a.rating", roles: ["specialist"], when: !c.rating, path: "rating",
      fields: [stars("score", t("f.score")), { name: "comment", label: t("f.note"), type: "textarea" }] },
    {
      key: "a.progress", roles: DEPARTMENT_ROLES, when: c.state === "order_signed", path: "progress",
      fields: [{ name: "note", label: t("visit.note"), type: "textarea", required: true }],
      media: () => mediaUploader({ label: t("c.photos"), name: "photo_media_ids", kind: "photo",
        complaintId: c.id, stages: ["during", "before", "after"] }),
      mediaField: "photo_media_ids",
    },
    {
      key: "a.claim", roles: [...DEPARTMENT_ROLES, ...CENTRE, "specialist"], when: Boolean(c.responsibility) && open,
      path: "claims", fields: [
        { name: "amount_claimed", label: t("f.amount_claimed"), required: true, inputmode: "decimal" },
        { name: "description", label: t("f.description"), type: "textarea", required: true }],
    },
    {
      key: "a.meeting", roles: ["chairman"], when: Boolean(c.escalation) && open, path: "meetings",
      fields: [{ name: "held_at", label: t("f.held_at"), type: "datetime", required: true, value: clock.inputValue() },
        { name: "responsible", label: t("f.responsible"), required: true },
        { name: "solution", label: t("f.solution"), type: "textarea", required: true },
        { name: "due_at", label: t("f.due_at"), type: "datetime", required: true }],
    },
  ];
  const acts = [...(work.visits || []), ...(c.callbacks || []).map((k) => ({ ...k, id: k.callback_id }))];
  for (const act of acts.filter((a) => a.time_acceptable && a.id)) {
    list.push({ title: word("accept"), roles: ["centre_deputy_gm"], when: true, suffix: act.id,
      url: `${base}/acts/${encodeURIComponent(act.id)}/accept-time`, fields: reasonField() });
  }
  for (const claim of work.claims || []) {
    const at = `/api/claims/${encodeURIComponent(claim.id)}/`;
    list.push(
      { key: "a.claim_report", roles: ["head"], when: claim.status === "raised", url: at + "report", suffix: claim.id,
        fields: [{ name: "report_text", label: t("f.report_text"), type: "textarea", required: true }] },
      { key: "a.claim_decide", roles: ["supervising_leader", "chairman"], when: claim.status === "reported", url: at + "decision", suffix: claim.id,
        fields: [decision()[0], { name: "amount_granted", label: t("f.amount_granted"), inputmode: "decimal" },
          { name: "note", label: t("f.note"), type: "textarea" }] },
      { key: "a.claim_file", roles: DEPARTMENT_ROLES, when: claim.status === "decided", url: at + "file", suffix: claim.id, fields: [] });
  }
  return list.filter((a) => a.when && hasRole(me, a.roles));
}

function actionForm(action, reload) {
  const uploader = action.media ? action.media() : null;
  const title = (action.title || t(action.key)) + (action.suffix ? ` · ${action.suffix}` : "");
  const el = form({
    fields: action.fields,
    extra: uploader ? [uploader.element] : [],
    // a step with nothing to fill in is one button
    submitText: action.fields.length || uploader ? t("a.send") : title,
    className: action.fields.length || uploader ? "" : "inline",
    async submit(values) {
      const payload = {};
      for (const [k, v] of Object.entries(values)) if (v !== null && v !== "") payload[k] = v;
      if (uploader) payload[action.mediaField] = await uploader.ids();
      await post(action.url || `${base}/${action.path}`, payload);
      await reload(t("msg.saved"));
    },
  });
  if (!action.fields.length && !uploader) return h("div", { class: "action direct" }, el);
  return h("details", { class: "action" },
    h("summary", { text: title }), h("div", { class: "action-body" }, el));
}

function actionsCard(me, c, reload) {
  const forms = actionsFor(me, c).map((a) => actionForm(a, reload));
  const mobile = hasRole(me, DEPARTMENT_ROLES) && c.state === "order_signed"
    ? h("p", {}, h("a", { class: "button primary", href: "/visit/" + encodeURIComponent(c.id), text: t("c.mobile") }))
    : null;
  return section(t("c.actions"), mobile, forms.length || mobile ? forms : h("p", { class: "muted", text: t("c.noactions") }));
}

function mediaById(c) {
  const items = c.media && !c.media.unavailable ? c.media.items || [] : [];
  return new Map(items.map((m) => [m.id, m]));
}

function thumb(media, caption) {
  if (!media) return null;
  const text = caption || label("kind", media.kind) + (media.stage ? ` · ${t("stage." + media.stage)}` : "");
  const inner = media.content_type?.startsWith("image/") && media.content_type !== "image/heic"
    ? h("img", { src: media.url, alt: text }) : h("span", { class: "file", text: media.content_type });
  return h("figure", { class: "media" }, h("a", { href: media.url, target: "_blank", rel: "noopener noreferrer" }, inner),
    h("figcaption", { text }));
}

function gallery(ids, media) {
  const figures = (ids || []).map((id) => thumb(media.get(id))).filter(Boolean);
  return figures.length ? h("div", { class: "gallery" }, figures) : null;
}

function signatureText(c) {
  const s = c.signature || {};
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

function headerCard(c) {
  const voided = c.state === "voided" && c.void
    ? notice(word("voided_note", { reason: c.void.reason, by: nameOf(c.void.by), at: fmtTime(c.void.at) }), "warn") : null;
  return h("div", { class: "card head" }, voided,
    h("h1", {}, c.id, " ", stateBadge(c.state, c.state_label),
      c.escalation ? badge(label("level", c.escalation.level, c.escalation.level_label), "warn") : null,
      c.reopen_count ? badge(`${label("action", "reopened")} ×${c.reopen_count}`, "warn") : null),
    definitions([
      [t("c.project"), `${c.project_id} · ${c.room}`],
      [t("c.customer"), `${c.customer_name} · ${c.customer_phone}`],
      [t("col.category"), label("category", c.category, c.category_label)],
      [t("c.channel"), label("channel", c.channel)],
      [t("c.recorded"), h("span", {}, `${fmtTime(c.recorded_at)} · `, who(c.recorded_by))],
      [t("c.contact_ended"), fmtTime(c.contact_ended_at)],
      [t("c.requested"), fmtTime(c.requested_completion_at)],
      [t("c.signature"), signatureText(c)],
    ]),
    h("h2", { text: t("c.demand") }), h("p", { class: "demand", text: c.demand }));
}

function deadlinesCard(c) {
  const d = c.deadlines;
  if (!d || d.unavailable) return section(t("c.deadlines"), notice(`${t("c.unavailable")}: ${d?.reason || ""}`));
  const rows = [...(d.timers || [])].sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at));
  return section(t("c.deadlines"), table([
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
        : h("span", {}, x.late_seconds ? lateText(x.late_seconds * 1000) : "",
          // the state's badge says met / cancelled; sla's summary (Chinese only) adds the split
          x.state === "missed" && lang === "zh" && x.summary ? ` · ${say(x.summary)}` : "")),
    },
  ], rows, { empty: t("c.deadlines.none") }));
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
    [t("c.cooperating"), (r.cooperating_departments || []).map((d) => d.department_name || label("department", d.department)).join("、")],
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
      definitions([[t("col.by"), who(a.applied_by)], [t("c.satisfaction"), a.satisfaction],
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
async function deductionsCard(c) {
  const months = [];
  const first = new Date(Date.parse(c.recorded_at));
  const now = clock.now();
  for (let d = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)); d <= now && months.length < 6;
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) months.push(d.toISOString().slice(0, 7));
  try {
    const pages = await Promise.all(months.map((month) => get("/api/deductions", { month, limit: 1000 })));
    const lines = pages.flatMap((p) => p.items).filter((x) => x.complaint_id === c.id);
    return section(t("c.deductions"), table([
      { label: t("col.person"), value: (x) => x.person_name ? h("span", { title: x.person_id, text: x.person_name }) : who(x.person_id) },
      { label: t("col.rule"), value: (x) => label("rule", x.rule) },
      { label: t("col.article"), value: (x) => x.article },
      { label: t("col.amount"), value: (x) => (x.amount ? `¥${x.amount}` : `${x.bonus_percent}%`), class: "num" },
      { label: t("col.when"), value: (x) => fmtTime(x.charged_at) },
      { label: t("col.note"), value: (x) => (x.reverses ? `↩ ${x.reverses}` : x.reversed_by ? `↩ ${x.reversed_by}` : "") },
    ], lines, { caption: t("c.deductions"), empty: t("c.deductions.none") }));
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
  const c = await get(base);
  PEOPLE = c.people || {};
  const media = mediaById(c);
  const reload = (text) => render(me, text);
  const deductions = await deductionsCard(c);
  fill(
    message ? notice(message, "ok") : null,
    headerCard(c),
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
