// `/desk`: the specialist records a complaint (POST /api/complaints). For a
// visit or mobile complaint the customer signs on the pad first; the PNG goes
// up as a signature (POST /api/media, with progress) and its id with the
// record. Then the customer may rate the reception on the desk terminal.
import { post, projectNames } from "../api.js";
import { codesOf, label, t } from "../i18n.js";
import { uploadSignature } from "../media.js";
import { signaturePad } from "../signature.js";
import { clock, complaintLink, failPage, fill, h, hasRole, notice, progress, section, start } from "../ui.js";
import { form, missing } from "../forms.js";

const SIGNED_AT_DESK = ["visit", "mobile"];
const DAY = 86400000;

// What the server would refuse, checked here first so that one submit shows
// every field's error (the server still answers the full list on its own).
// The same rules as shared.validation.normalise_phone and intake's RecordForm.
export function phoneOk(text) {
  let compact = String(text).replace(/[\s()]/g, "");
  const mobile = /^1[3-9]\d{9}$/;
  for (const prefix of ["+86", "0086"]) {
    if (compact.startsWith(prefix)) {
      compact = compact.slice(prefix.length).replace(/^-+/, "");
      return mobile.test(compact);
    }
  }
  return mobile.test(compact) || /^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$/.test(compact);
}

function recordErrors(fields, values, pad) {
  const found = missing(fields, values);
  const add = (name, code, params) => { found[name] = [{ code, params }]; };
  if (values.customer_phone && !phoneOk(values.customer_phone)) add("customer_phone", "phone");
  const now = clock.now().getTime();
  const requested = Date.parse(values.requested_completion_at);
  if (requested <= now) add("requested_completion_at", "in_future");
  else if (requested > now + 730 * DAY) add("requested_completion_at", "too_far_ahead", { days: 730 });
  const ended = Date.parse(values.contact_ended_at);
  if (ended > now + 2 * 60000) add("contact_ended_at", "not_in_future");
  else if (ended < now - 30 * DAY) add("contact_ended_at", "too_long_ago", { days: 30 });
  if (SIGNED_AT_DESK.includes(values.channel) && pad.isEmpty()) add("customer_signature_media_id", "signature_needed");
  return found;
}

function recordForm(me, projects = {}) {
  const pad = signaturePad({ label: t("desk.signature") });
  const linkNote = h("p", { class: "hint", text: t("desk.signature.link") });
  const bar = progress(t("desk.uploading"));
  bar.el.hidden = true;
  const fields = [
    { name: "project_id", label: t("desk.project"), type: "select", required: true,
      options: me.project_ids.map((p) => [p, projects[p] ? `${projects[p]} (${p})` : p]) },
    { name: "room", label: t("desk.room"), required: true, max: 40 },
    { name: "customer_name", label: t("desk.customer_name"), required: true, autocomplete: "off" },
    { name: "customer_phone", label: t("desk.customer_phone"), required: true, type: "tel", inputmode: "tel" },
    { name: "channel", label: t("desk.channel"), type: "radio", required: true, value: "visit",
      options: codesOf("channel").map((c) => [c, label("channel", c)]) },
    { name: "category", label: t("desk.category"), type: "select", required: true, value: "",
      options: [["", t("desk.choose")], ...codesOf("category").map((c) => [c, label("category", c)])] },
    { name: "demand", label: t("desk.demand"), type: "textarea", required: true, rows: 4, max: 2000 },
    { name: "requested_completion_at", label: t("desk.requested"), type: "datetime", required: true },
    { name: "contact_ended_at", label: t("desk.contact_ended"), type: "datetime", required: true, value: clock.inputValue() },
    { name: "resolved_on_spot", label: t("desk.on_spot"), type: "checkbox" },
  ];
  const el = form({
    fields, extra: [pad.element, linkNote, bar.el], submitText: t("desk.submit"),
    check: (values) => recordErrors(fields, values, pad),
    async submit(values) {
      const body = { ...values };
      if (SIGNED_AT_DESK.includes(values.channel) && !pad.isEmpty()) {
        bar.el.hidden = false;
        body.customer_signature_media_id = await uploadSignature(pad, { bar });
      }
      for (const [k, v] of Object.entries(body)) if (v === null) delete body[k];
      const complaint = await post("/api/complaints", body);
      done(complaint);
    },
  });
  const showPad = () => {
    const channel = el.querySelector("input[name=channel]:checked")?.value;
    pad.element.hidden = !SIGNED_AT_DESK.includes(channel);
    linkNote.hidden = !pad.element.hidden;
  };
  el.addEventListener("change", showPad);
  showPad();
  return el;
}

function done(complaint) {
  const rating = form({
    fields: [{ name: "score", label: t("f.score"), type: "stars", number: true, required: true,
      options: [1, 2, 3, 4, 5].map((n) => [String(n), "★".repeat(n) + ` ${n}`]) },
    { name: "comment", label: t("f.note"), type: "textarea" }],
    submitText: t("a.send"),
    async submit(values) {
      await post(`/api/complaints/${encodeURIComponent(complaint.id)}/rating`,
        values.comment ? values : { score: values.score });
      rating.replaceWith(notice(t("desk.rated"), "ok"));
    },
  });
  fill(
    h("h1", { text: t("desk.title") }),
    section(t("desk.done", { id: complaint.id }),
      notice(t("desk.done", { id: complaint.id }), "ok"),
      h("p", {}, complaintLink(complaint.id), " · ",
        h("a", { href: "/complaints/" + encodeURIComponent(complaint.id), text: t("desk.open") }), " · ",
        h("a", { href: "/desk", text: t("desk.another") }))),
    section(t("desk.rate"), rating));
  document.querySelector("#main").focus();
}

start().then(async (me) => {
  if (!hasRole(me, "specialist")) {
    fill(notice(t("msg.forbidden"), "error"));
    return;
  }
  fill(h("h1", { text: t("desk.title") }), h("div", { class: "card" }, recordForm(me, await projectNames())));
}).catch(failPage);
