// The complaint page's actions (pages/complaint.js): what the viewer's role
// may do at this step, as forms that post to the API, which decides. The
// step the page is for is open; a decision is a choice (nothing pre-selected)
// and a rejection's consequences are confirmed; the GM's sign form names the
// department and handler the order will go to (dispatch's routing preview).
import { ApiError, get, post } from "../api.js";
import { codesOf, joinList, label, lang, say, t } from "../i18n.js";
import { mediaUploader } from "../media.js";
import { CENTRE, clock, definitions, errorText, h, hasRole, notice, replace, section } from "../ui.js";
import { form } from "../forms.js";

const complaintId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/complaints/${encodeURIComponent(complaintId)}`;

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
export function word(key, vars = {}) {
  const text = (ACT_WORDS[lang] || ACT_WORDS.zh)[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name] ?? "") : ""));
}
export function actionName(code) {
  const known = label("action", code);
  return known === code && ACT_WORDS.zh["action." + code] ? word("action." + code) : known;
}

const reasonField = () => [{ name: "reason", label: t("f.reason"), type: "textarea", required: true }];

// Approve or reject is a choice the person makes (nothing pre-selected); a
// rejection says what it sets off and is confirmed before it is sent.
// `step`: the words' key of what the rejection sets off (ca.reject.<step>).
const decision = (step) => [
  { name: "decision", label: t("f.decision"), type: "radio", required: true, consequence: step,
    options: [["approve", t("d.approve")], ["reject", t("d.reject")]] },
  { name: "reason", label: t("f.reason"), type: "textarea", hint: t("ca.reason.hint") },
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
      path: "void", fields: reasonField(), folded: true },
    { key: "a.review", roles: ["centre_deputy_gm"], when: c.state === "order_submitted", path: "order/review", fields: decision("ca.reject.review") },
    {
      key: "a.sign", roles: ["centre_gm"], when: c.state === "order_reviewed", path: "order/sign",
      preview: true,
      fields: [...decision("ca.reject.sign"),
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
      fields: [decision("ca.reject.verify")[0], stars("satisfaction", t("f.satisfaction"), false),
        { name: "comment", label: t("f.comment"), type: "textarea" }, decision("ca.reject.verify")[1]],
    },
    { key: "a.closure_review", roles: ["centre_deputy_gm"], when: c.state === "closure_verified", path: "closure/review", fields: decision("ca.reject.closure") },
    { key: "a.closure_approve", roles: ["centre_gm"], when: c.state === "closure_reviewed", path: "closure/approve", fields: decision("ca.reject.closure") },
    { key: "a.reopen", roles: ["specialist"], when: c.state === "closed", path: "reopen", folded: true,
      fields: [{ name: "reason", label: t("f.reason"), type: "textarea", required: true }] },
    {
      key: "a.escalate", roles: ["centre_gm"], when: open && !c.escalation, path: "escalate", folded: true,
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
      key: "a.claim", roles: [...DEPARTMENT_ROLES, ...CENTRE, "specialist"], when: Boolean(c.responsibility) && open, folded: true,
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
        fields: [decision("ca.reject.claim")[0], { name: "amount_granted", label: t("f.amount_granted"), inputmode: "decimal" },
          { name: "note", label: t("f.note"), type: "textarea" }] },
      { key: "a.claim_file", roles: DEPARTMENT_ROLES, when: claim.status === "decided", url: at + "file", suffix: claim.id, fields: [] });
  }
  return list.filter((a) => a.when && hasRole(me, a.roles));
}

// A rejection's consequences, shown once "reject" is chosen, with the box the
// person ticks to confirm them (not sent: the form checks it).
function rejectionCheck(step) {
  const id = "confirm-reject-" + Math.random().toString(36).slice(2, 8);
  const box = h("div", { class: "field ca-reject", hidden: true, dataset: { name: "confirm_reject" } },
    notice(t(step), "warn"),
    h("label", { for: id }, h("input", { id, type: "checkbox", name: "confirm_reject" }), " ", t("ca.reject.confirm")),
    h("p", { class: "field-error" }));
  return box;
}

function actionForm(action, reload, c) {
  const uploader = action.media ? action.media() : null;
  const title = (action.title || t(action.key)) + (action.suffix ? ` · ${action.suffix}` : "");
  const choice = action.fields.find((f) => f.consequence);
  const check = choice ? rejectionCheck(choice.consequence) : null;
  const el = form({
    fields: action.fields,
    extra: [uploader ? uploader.element : null, check].filter(Boolean),
    // a step with nothing to fill in is one button
    submitText: action.fields.length || uploader ? t("a.send") : title,
    className: action.fields.length || uploader ? "" : "inline",
    async submit(values, formEl) {
      if (choice) {
        const fields = {};
        if (!values[choice.name]) fields[choice.name] = [t("ca.choose")];
        if (values[choice.name] === "reject" && !formEl.querySelector("input[name=confirm_reject]").checked) {
          fields.confirm_reject = [t("ca.reject.unconfirmed")];
        }
        if (Object.keys(fields).length) throw new ApiError(400, { fields });
      }
      const payload = {};
      for (const [k, v] of Object.entries(values)) if (v !== null && v !== "") payload[k] = v;
      if (uploader) payload[action.mediaField] = await uploader.ids();
      await post(action.url || `${base}/${action.path}`, payload);
      await reload(t("msg.saved"));
    },
  });
  if (check) {
    el.addEventListener("change", () => {
      check.hidden = el.querySelector(`input[name=${choice.name}]:checked`)?.value !== "reject";
    });
  }
  const preview = action.preview ? routingPreview(c, el) : null;
  if (!action.fields.length && !uploader) return h("div", { class: "action direct" }, el);
  // the step the page is for is open; rarer acts (escalate, claim, void) stay folded
  return h("details", { class: "action", open: !action.folded },
    h("summary", { text: title }), h("div", { class: "action-body" }, preview, el));
}

// The GM's sign form names where the order goes (issue 16): dispatch's routing
// table and directory, asked again when the GM picks another department.
function routingPreview(c, formEl) {
  const box = h("div", { class: "ca-preview", "aria-live": "polite" }, h("p", { class: "muted", text: t("msg.loading") }));
  const select = formEl.querySelector("[name=department]");
  const load = async () => {
    const department = select?.value || null;
    try {
      const p = await get(`${base}/routing-preview`, department ? { department } : {});
      replace(box, previewBody(p));
    } catch (error) {
      replace(box, notice(`${t("ca.preview.unavailable")} ${errorText(error)}`, "warn"));
    }
  };
  select?.addEventListener("change", load);
  load();
  return box;
}

function previewBody(p) {
  const r = p.routing;
  if (!p.routable || !r) {
    // a vacant post is worded from its role's code (the server's text names a unit id in English)
    const role = p.failure?.role;
    const why = role && codesOf("role").includes(role)
      ? t("ca.preview.vacant", { role: label("role", role) }) : say(p.failure?.message || "");
    return [h("h3", { text: t("ca.preview.title") }),
      notice(t("ca.preview.fails", { department: label("department", p.department, p.department_name), why }), "error")];
  }
  const named = (x) => (x ? `${x.name}${x.mobile ? ` · ${x.mobile}` : ""}` : "");
  return [h("h3", { text: t("ca.preview.title") }), definitions([
    [t("ca.preview.department"), `${r.department_unit_name || r.unit_name || p.department_name}${p.department_overridden ? ` ${t("ca.preview.overridden")}` : ""}`],
    [t("ca.preview.company"), r.company_name],
    [t("ca.preview.handler"), named(r.handler)],
    [t("c.leaders"), joinList((r.leaders || []).map((l) => l.name))],
    [t("c.cooperating"), joinList((r.cooperating_departments || []).map((d) => d.unit_name || d.department_name))],
  ]), h("p", { class: "hint", text: t("ca.preview.note") })];
}

export function actionsCard(me, c, reload) {
  const forms = actionsFor(me, c).map((a) => actionForm(a, reload, c));
  const mobile = hasRole(me, DEPARTMENT_ROLES) && c.state === "order_signed"
    ? h("p", {}, h("a", { class: "button primary", href: "/visit/" + encodeURIComponent(c.id), text: t("c.mobile") }))
    : null;
  return section(t("c.actions"), mobile, forms.length || mobile ? forms : h("p", { class: "muted", text: t("c.noactions") }));
}

