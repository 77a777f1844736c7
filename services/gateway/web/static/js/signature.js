// A signature drawn on a canvas (signature_pad, vendored) and uploaded as a
// PNG (SPEC §6, kind=signature). For anyone who cannot draw, the name typed
// in a field is written on the pad instead: the pad stays keyboard-usable.
import SignaturePad from "../vendor/signature_pad-5.1.4.min.js";
import { h } from "./ui.js";
import { t } from "./i18n.js";

let padCount = 0;

export function signaturePad({ label, name = "customer_signature_media_id" }) {
  const id = "sig" + ++padCount;
  const canvas = h("canvas", {
    id, class: "pad", role: "img", tabindex: "0", "aria-label": t("sig.area"),
    "aria-describedby": id + "-error",
  });
  const typed = h("input", { id: id + "-name", type: "text", autocomplete: "name" });
  let typedName = null;
  let version = 0;          // changes with every stroke, clear or typed name
  const pad = new SignaturePad(canvas, { penColor: "#111", minWidth: 0.8, maxWidth: 2.6 });
  pad.addEventListener("beginStroke", () => { typedName = null; });
  pad.addEventListener("endStroke", () => { version += 1; });

  function fit() {
    // the canvas's pixels follow its CSS size and the screen's density
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const data = pad.isEmpty() ? null : pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (typedName) writeName(typedName);
    else if (data) pad.fromData(data);
  }

  function writeName(name) {
    pad.clear();
    const context = canvas.getContext("2d");
    const width = canvas.offsetWidth;
    const height = canvas.offsetHeight;
    context.save();
    context.fillStyle = "#111";
    context.font = `italic ${Math.round(height * 0.4)}px serif`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText(name, width / 2, height / 2, width * 0.9);
    context.restore();
    typedName = name;
    version += 1;
  }

  const clear = () => { typedName = null; pad.clear(); version += 1; };
  const element = h("div", { class: "field signature", dataset: { name } },
    h("p", { class: "label", id: id + "-label", text: label }),
    canvas,
    h("div", { class: "buttons" },
      h("button", { type: "button", text: t("sig.clear"), onclick: clear })),
    h("details", { class: "typed" },
      h("summary", { text: t("sig.typed") }),
      h("label", { for: id + "-name", text: t("sig.typed.label") }), typed,
      h("button", {
        type: "button", text: t("sig.typed.apply"),
        onclick: () => { if (typed.value.trim()) writeName(typed.value.trim()); },
      })),
    h("p", { class: "field-error", id: id + "-error" }));

  new ResizeObserver(() => { if (canvas.offsetWidth) fit(); }).observe(canvas);

  return {
    element,
    isEmpty: () => pad.isEmpty() && !typedName,
    typed: () => Boolean(typedName),   // a name typed, not drawn (labelled 键入签名)
    version: () => version,
    clear,
    toBlob: () => new Promise((resolve) => canvas.toBlob(resolve, "image/png")),
  };
}
