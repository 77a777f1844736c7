// Uploads with progress (SPEC §6): photos from the phone's camera, files, and
// the signature drawn on a pad. Each file goes up as soon as it is chosen, so
// the record's form only sends the media ids. Before a file goes up it is
// checked against the server's limit and types (GET /api/uploads/limits), and
// a photo larger than the limit or the longest side is redrawn smaller as a
// JPEG; what is still too large, or of a type media refuses, is refused here
// with the limit stated, before a byte is sent.
import { call, upload } from "./api.js";
import { lang, t } from "./i18n.js";
import { h, progress, errorText } from "./ui.js";

let limitsAsked = null;

export function uploadLimits() {
  limitsAsked ??= call("GET", "/api/uploads/limits", { auth: false }).catch(() => null);
  return limitsAsked;
}

export function sizeText(bytes) {
  const mib = bytes / 1048576;
  if (mib >= 1) return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

const typeNames = (limits) => (lang === "en" ? limits.type_names.replace(/、/g, ", ") : limits.type_names);

export function limitText(limits) {
  return t("upload.limit", { size: limits.max_size, types: typeNames(limits), edge: limits.photo_max_edge });
}

// Browsers can redraw these; HEIC and PDF go up as they are.
const REDRAWN = ["image/jpeg", "image/png", "image/webp"];
const EXTENSIONS = { heic: "image/heic", heif: "image/heif", pdf: "application/pdf", jpg: "image/jpeg",
  jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

function typeOf(file) {
  return file.type || EXTENSIONS[(file.name.split(".").pop() || "").toLowerCase()] || "";
}

async function redraw(file, maxEdge, quality) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";            // a transparent PNG turns white, not black
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close?.();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  return new File([blob], file.name.replace(/\.[^.]+$/, "") + ".jpg", { type: "image/jpeg" });
}

// The file to send: {file} (perhaps redrawn smaller), or {refused: message}.
export async function prepare(file, { shrink = true } = {}) {
  const limits = await uploadLimits();
  if (!limits) return { file };          // no answer: the server still checks
  const type = typeOf(file);
  const vars = { name: file.name, size: sizeText(file.size), limit: limits.max_size, types: typeNames(limits) };
  if (!limits.types.includes(type)) return { refused: t("upload.bad_type", vars) };
  if (shrink && REDRAWN.includes(type)) {
    try {
      const bitmap = await createImageBitmap(file);
      const large = Math.max(bitmap.width, bitmap.height) > limits.photo_max_edge;
      bitmap.close?.();
      if (large || file.size > limits.max_bytes) {
        // a photo's detail survives 0.85 at 2048 px; a second, rougher try only if needed
        let smaller = await redraw(file, limits.photo_max_edge, 0.85);
        if (smaller.size > limits.max_bytes) smaller = await redraw(file, limits.photo_max_edge, 0.7);
        if (smaller.size < file.size) return { file: smaller, shrunk: [file.size, smaller.size] };
      }
    } catch { /* not drawable here: sent as it is if it fits */ }
  }
  if (file.size > limits.max_bytes) return { refused: t("upload.too_big", vars) };
  return { file };
}

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
    class: "file", "aria-describedby": `${id}-limit ${id}-error`,
  });

  const limitHint = h("p", { class: "hint", id: id + "-limit" });
  uploadLimits().then((limits) => { if (limits) limitHint.textContent = limitText(limits); });

  input.addEventListener("change", () => {
    for (const file of input.files) send(file);
    input.value = "";
  });

  function send(chosen) {
    const bar = progress(t("upload.shrinking"));
    const remove = h("button", { type: "button", class: "link", text: t("upload.remove") });
    const item = h("li", {}, chosen.type.startsWith("image/") ? h("span", { class: "thumb" }) : h("span", { text: chosen.name }),
      h("div", {}, h("span", { class: "file-name", text: chosen.name }), bar.el), remove);
    remove.addEventListener("click", () => { uploaded.delete(item); item.remove(); });
    list.append(item);
    const job = prepare(chosen).then((ready) => {
      if (ready.refused) {
        item.classList.add("failed", "refused");
        bar.el.replaceWith(h("p", { class: "field-error", role: "alert", text: ready.refused }));
        return null;
      }
      const file = ready.file;
      if (file.type.startsWith("image/")) {
        item.firstChild.replaceWith(h("img", { alt: file.name, src: URL.createObjectURL(file), class: "thumb" }));
      }
      if (ready.shrunk) {
        item.querySelector(".file-name").after(h("small", { class: "muted shrunk",
          text: " " + t("upload.shrunk", { from: sizeText(ready.shrunk[0]), to: sizeText(ready.shrunk[1]) }) }));
      }
      bar.set(0, t("upload.progress", { p: 0 }));
      return sendPrepared(file, item, bar);
    }).finally(() => pending.delete(job));
    pending.add(job);
  }

  function sendPrepared(file, item, bar) {
    return upload("/api/media", file, file.name, {
      kind, stage: stage ? stage.value : null, complaint_id: complaintId,
    }, { onProgress: (f) => bar.set(f, t("upload.progress", { p: Math.round((f ?? 0) * 100) })) })
      .then((media) => { uploaded.set(item, media.id); bar.set(1, t("upload.done")); item.dataset.mediaId = media.id; })
      .catch((error) => { bar.set(0, `${t("upload.failed")}: ${errorText(error)}`); item.classList.add("failed"); });
  }

  const element = h("div", { class: "field uploader", dataset: { name } },
    h("p", { class: "label", text: label }),
    stage ? h("label", { for: id + "-stage", text: t("visit.stage") }) : null, stage,
    h("label", { for: id, text: t("visit.take") }), limitHint, input,
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
  const limits = await uploadLimits();
  if (limits && blob.size > limits.max_bytes) {
    throw new Error(t("upload.too_big", { name: t("desk.signature"), size: sizeText(blob.size), limit: limits.max_size }));
  }
  // how it was made travels with it (media keeps signature_kind; the pages label a typed one)
  const signatureKind = pad.typed?.() ? "typed" : "drawn";
  const fields = path === "/api/media"
    ? { kind: "signature", complaint_id: complaintId, signature_kind: signatureKind }
    : { signature_kind: signatureKind };
  const media = await upload(path, blob, "signature.png", fields, {
    auth, onProgress: (f) => bar?.set(f, t("upload.progress", { p: Math.round((f ?? 0) * 100) })),
  });
  bar?.set(1, t("upload.done"));
  uploadedPads.set(pad, { version: pad.version(), id: media.id });
  return media.id;
}
