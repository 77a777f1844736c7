// `/visit/<id>`: the department's phone page (Art. 22-28): record the visit
// (photos from the camera, the plan, the agreed completion date, the
// customer's signature on the pad) or that the customer blocked it; the
// day's progress; the closure application with the customer-signed material.
import { ApiError, get, post, projectNames } from "../api.js";
import { label, t } from "../i18n.js";
import { mediaUploader, uploadSignature } from "../media.js";
import { signaturePad } from "../signature.js";
import {
  clock, definitions, failPage, fill, fmtTime, h, notice, progress, section, start, stateBadge,
} from "../ui.js";
import { form } from "../forms.js";

const complaintId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/complaints/${encodeURIComponent(complaintId)}`;

function visitForm(c, saved) {
  const photos = mediaUploader({ label: t("visit.photos"), name: "photo_media_ids", kind: "photo",
    complaintId: c.id, stages: ["before", "during", "after"] });
  const pad = signaturePad({ label: t("visit.signature") });
  const bar = progress();
  bar.el.hidden = true;
  const doneOnly = [photos.element, pad.element];
  const fields = [
    { name: "outcome", label: t("visit.outcome"), type: "radio", required: true, value: "done",
      options: [["done", t("visit.done")], ["blocked", t("visit.blocked")]] },
    { name: "visited_at", label: t("visit.visited_at"), type: "datetime", value: clock.inputValue(), group: "done", required: true },
    { name: "plan", label: t("visit.plan"), type: "textarea", rows: 4, group: "done", required: true },
    { name: "agreed_completion_at", label: t("visit.agreed"), type: "datetime", group: "done", required: true },
    { name: "attempted_at", label: t("visit.attempted_at"), type: "datetime", value: clock.inputValue(), group: "blocked", required: true },
    { name: "reason", label: t("visit.reason"), type: "textarea", group: "blocked", required: true },
  ];
  const el = form({
    fields, extra: [...doneOnly, bar.el], submitText: t("visit.submit"),
    async submit(values) {
      const body = { outcome: values.outcome };
      const group = fields.filter((f) => f.group === values.outcome).map((f) => f.name);
      for (const name of group) if (values[name] !== null) body[name] = values[name];
      if (values.outcome === "done") {
        body.photo_media_ids = await photos.ids();
        bar.el.hidden = false;
        const signature = await uploadSignature(pad, { complaintId: c.id, bar });
        if (signature) body.customer_signature_media_id = signature;
      }
      await post(`${base}/visits`, body);
      saved(t("visit.saved"));
    },
  });
  const toggle = () => {
    const outcome = el.querySelector("input[name=outcome]:checked")?.value;
    for (const f of fields.filter((x) => x.group)) {
      el.querySelector(`.field[data-name="${f.name}"]`).hidden = f.group !== outcome;
    }
    for (const part of doneOnly) part.hidden = outcome !== "done";
  };
  el.addEventListener("change", toggle);
  toggle();
  return el;
}

function progressForm(c, saved) {
  const photos = mediaUploader({ label: t("visit.photos"), name: "photo_media_ids", kind: "photo",
    complaintId: c.id, stages: ["during", "before", "after"] });
  return form({
    fields: [{ name: "note", label: t("visit.note"), type: "textarea", required: true, rows: 3 }],
    extra: [photos.element], submitText: t("visit.progress.submit"),
    async submit(values) {
      await post(`${base}/progress`, { note: values.note, photo_media_ids: await photos.ids() });
      saved(t("visit.progress.saved"));
    },
  });
}

function closureForm(c, saved) {
  const material = mediaUploader({ label: t("visit.material"), name: "material_media_ids", kind: "material",
    complaintId: c.id, accept: "image/*,application/pdf" });
  const pad = signaturePad({ label: t("visit.signature") });
  const bar = progress();
  bar.el.hidden = true;
  const fields = [{ name: "work_done", label: t("ca.work_done"), type: "textarea", rows: 4, required: true,
    hint: t("ca.work_done.hint"), max: 4000 }];
  return form({
    fields, extra: [material.element, pad.element, bar.el], submitText: t("visit.closure.submit"),
    async submit(values) {
      // what was done is the application's point: asked for before anything uploads
      if (!values.work_done) throw new ApiError(400, { fields: { work_done: [t("msg.required")] } });
      const body = { work_done: values.work_done, material_media_ids: await material.ids() };
      bar.el.hidden = false;
      const signature = await uploadSignature(pad, { complaintId: c.id, bar });
      if (signature) body.customer_signature_media_id = signature;
      await post(`${base}/closure/apply`, body);
      saved(t("visit.closure.saved"));
    },
  });
}

// What this round already has on record (the visit's plan and agreed date,
// the progress so far, the application): the handler sees what was saved.
function savedCard(c, work) {
  const round = c.order?.order_round;
  const mine = (list) => (list || []).filter((x) => round === undefined || x.order_round === undefined || x.order_round === round);
  const visits = mine(work.visits), progress = mine(work.progress), applications = mine(work.applications);
  if (!visits.length && !progress.length && !applications.length) return null;
  const items = [];
  for (const v of visits) {
    items.push(h("li", { class: "ca-record" }, h("strong", { text: `${t("c.visits")} · ${label("outcome", v.outcome)}` }),
      " ", h("time", { text: fmtTime(v.happened_at) }),
      definitions([[t("visit.plan"), v.plan], [t("visit.agreed"), fmtTime(v.agreed_completion_at)],
        [t("visit.reason"), v.reason]])));
  }
  for (const p of [...progress].reverse()) {
    items.push(h("li", { class: "ca-record" }, h("strong", { text: t("c.progress") }), " ",
      h("time", { text: fmtTime(p.recorded_at) }), h("p", { class: "note", text: p.note })));
  }
  for (const a of applications) {
    items.push(h("li", { class: "ca-record" }, h("strong", { text: t("c.applications") }), " ",
      h("time", { text: fmtTime(a.applied_at) }), " · ", label("application", a.status),
      a.work_done ? h("p", { class: "note", text: a.work_done }) : null));
  }
  return section(t("ca.saved.title"), h("ul", { class: "ca-records" }, items));
}

// The confirmation stays in sight on a phone: fixed at the screen's foot (the
// form the handler just sent may be far from the top; the header's navigation
// stays uncovered), until closed.
function toast(message) {
  const el = h("div", { class: "ca-toast", role: "status", "aria-live": "polite" },
    h("span", { text: message }),
    h("button", { type: "button", class: "link", text: t("ca.close"), "aria-label": t("ca.close"),
      onclick: () => el.remove() }));
  return el;
}

async function render(message) {
  const [c, projects] = await Promise.all([get(base), projectNames()]);
  const work = c.dispatch && !c.dispatch.unavailable ? c.dispatch : {};
  const visited = (work.visits || []).some((v) => v.outcome === "done" && v.order_round === c.order?.order_round);
  const saved = (text) => render(text);
  document.querySelector(".ca-toast")?.remove();
  if (message) document.body.append(toast(message));
  fill(
    h("h1", {}, t("visit.title"), " ", stateBadge(c.state, c.state_label)),
    definitions([
      [t("col.id"), h("a", { href: "/complaints/" + encodeURIComponent(c.id), text: c.id })],
      [t("c.project"), `${projects[c.project_id] || c.project_id} · ${c.room}`],
      [t("c.customer"), h("span", {}, `${c.customer_name} · `,
        h("a", { href: `tel:${c.customer_phone}`, text: c.customer_phone }))],
      [t("col.category"), label("category", c.category, c.category_label)],
      [t("c.requested"), fmtTime(c.requested_completion_at)],
      [t("c.demand"), c.demand],
    ]),
    savedCard(c, work),
    c.state === "order_signed" ? [
      section(t("a.visit"), visited ? notice(t("visit.saved"), "ok") : visitForm(c, saved)),
      section(t("visit.progress"), progressForm(c, saved)),
      section(t("visit.closure"), closureForm(c, saved)),
    ] : notice(label("state", c.state, c.state_label)),
    h("p", {}, h("a", { href: "/complaints/" + encodeURIComponent(c.id), text: t("visit.back") })));
  if (message) {
    window.scrollTo({ top: 0 });
    document.querySelector("#main").focus({ preventScroll: true });
  }
}

start().then(() => render()).catch(failPage);
