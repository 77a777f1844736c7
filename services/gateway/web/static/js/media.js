// Uploads with progress (SPEC §6): photos from the phone's camera, files, and
// the signature drawn on a pad. Each file goes up as soon as it is chosen, so
// the record's form only sends the media ids.
import { upload } from "./api.js";
import { t } from "./i18n.js";
import { h, progress, errorText } from "./ui.js";

let uploaderCount = 0;

// kind: photo (with a stage chosen beside it) or material.
export function mediaUploader({ label, name, kind, complaintId, stages = null, accept = "image/*",
  capture = true }) {
  const id = "up" + ++uploaderCount;
  const uploaded = new Map();      // element -> media id
  const pending = new Set();
  const list = h("ul", { class: "uploads", "aria-live": "polite" });
  const stage = stages ? h("select", { id: id + "-stage", name: name + "_stage" },
    stages.map((s) => h("option", { value: s, text: t("stage." + s) }))) : null;
  const input = h("input", {
    id, type: "file", accept, multiple: true, capture: capture ? "environment" : null,
    class: "file", "aria-describedby": id + "-error",
  });

  input.addEventListener("change", () => {
    for (const file of input.files) send(file);
    input.value = "";
  });

  function send(file) {
    const bar = progress(t("upload.progress", { p: 0 }));
    const preview = h("img", { alt: file.name, src: URL.createObjectURL(file), class: "thumb" });
    const remove = h("button", { type: "button", class: "link", text: t("upload.remove") });
    const item = h("li", {}, file.type.startsWith("image/") ? preview : h("span", { text: file.name }),
      h("div", {}, h("span", { class: "file-name", text: file.name }), bar.el), remove);
    remove.addEventListener("click", () => { uploaded.delete(item); item.remove(); });
    list.append(item);
    const job = upload("/api/media", file, file.name, {
      kind, stage: stage ? stage.value : null, complaint_id: complaintId,
    }, { onProgress: (f) => bar.set(f, t("upload.progress", { p: Math.round((f ?? 0) * 100) })) })
      .then((media) => { uploaded.set(item, media.id); bar.set(1, t("upload.done")); item.dataset.mediaId = media.id; })
      .catch((error) => { bar.set(0, `${t("upload.failed")}: ${errorText(error)}`); item.classList.add("failed"); })
      .finally(() => pending.delete(job));
    pending.add(job);
  }

  const element = h("div", { class: "field uploader", dataset: { name } },
    h("p", { class: "label", text: label }),
    stage ? h("label", { for: id + "-stage", text: t("visit.stage") }) : null, stage,
    h("label", { for: id, text: t("visit.take") }), input,
    list, h("p", { class: "field-error", id: id + "-error" }));
  return {
    element,
    async ids() { await Promise.all([...pending]); return [...uploaded.values()]; },
  };
}

// The pad's drawing as a PNG upload; the media id, or null when nothing was
// drawn. The same drawing is uploaded once: a form sent again after a field
// error reuses its id.
const uploadedPads = new WeakMap();   // pad -> {version, id}

export async function uploadSignature(pad, { path = "/api/media", auth = true, complaintId, bar }) {
  if (pad.isEmpty()) return null;
  const done = uploadedPads.get(pad);
  if (done && done.version === pad.version()) return done.id;
  const blob = await pad.toBlob();
  const fields = path === "/api/media" ? { kind: "signature", complaint_id: complaintId } : {};
  // the file's name tells a typed name from a drawn signature (the pages label it)
  const name = pad.typed?.() ? "typed-signature.png" : "signature.png";
  const media = await upload(path, blob, name, fields, {
    auth, onProgress: (f) => bar?.set(f, t("upload.progress", { p: Math.round((f ?? 0) * 100) })),
  });
  bar?.set(1, t("upload.done"));
  uploadedPads.set(pad, { version: pad.version(), id: media.id });
  return media.id;
}
