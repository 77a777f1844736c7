// `/sign/<token>`: the customer's one-time link (SPEC §8; no sign-in): read
// the record, sign it on the pad (POST /api/sign/<token>/media, then
// /api/sign/<token>), then rate the reception 1–5 through the rating link
// the answer names.
import { ApiError, call, upload } from "../api.js";
import { label, t, translate } from "../i18n.js";
import { signaturePad } from "../signature.js";
import { definitions, errorText, fill, fmtTime, h, header, notice, progress, section } from "../ui.js";
import { form } from "../forms.js";

const token = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/sign/${encodeURIComponent(token)}`;

function record(link) {
  return definitions([
    [t("col.id"), link.complaint_id],
    [t("c.project"), `${link.project_name || link.project_id} · ${link.room}`],
    [t("col.category"), label("category", link.category, link.category_label)],
    [t("c.recorded"), fmtTime(link.recorded_at)],
    [t("c.demand"), link.demand],
    [t("sign.expires"), fmtTime(link.expires_at)],
  ]);
}

function signStep(link) {
  // the customer signs for themselves: "your signature", not the staff's "customer's"
  const pad = signaturePad({ label: t("sign.signature"), name: "signature_media_id" });
  const bar = progress();
  bar.el.hidden = true;
  return section(t("sign.title"), h("p", { text: t("sign.intro") }), record(link), form({
    fields: [], extra: [pad.element, bar.el], submitText: t("sign.submit"),
    async submit() {
      if (pad.isEmpty()) throw new ApiError(400, { fields: { signature_media_id: [t("sig.empty")] } });
      bar.el.hidden = false;
      // how it was made travels as signature_kind (the staff's page reads 键入签名 for typed)
      const fields = { signature_kind: pad.typed() ? "typed" : "drawn" };
      const media = await upload(`${base}/media`, await pad.toBlob(), "signature.png", fields, {
        auth: false, onProgress: (f) => bar.set(f, t("upload.progress", { p: Math.round((f ?? 0) * 100) })),
      });
      const signed = await call("POST", base, { auth: false, body: { signature_media_id: media.id } });
      fill(notice(t("sign.done"), "ok"));
      // the rating link the answer names (same page, next step)
      if (signed.rating_link_path?.startsWith("/sign/")) location.replace(signed.rating_link_path);
    },
  }));
}

function rateStep(link) {
  return section(t("sign.rate"), record(link), form({
    fields: [{ name: "score", label: t("sign.rate"), type: "stars", number: true, required: true,
      options: [1, 2, 3, 4, 5].map((n) => [String(n), "★".repeat(n) + ` ${n}`]) },
    { name: "comment", label: t("sign.comment"), type: "textarea" }],
    submitText: t("sign.rate.submit"),
    async submit(values) {
      if (!values.score) throw new ApiError(400, { fields: { score: [t("msg.required")] } });
      const body = values.comment ? values : { score: values.score };
      await call("POST", `${base}/rating`, { auth: false, body });
      fill(notice(t("sign.rated"), "ok"));
      document.querySelector("#main").focus();
    },
  }));
}

async function main() {
  translate();
  header(null);
  try {
    const link = await call("GET", base, { auth: false });
    fill(link.step === "rating" ? rateStep(link) : signStep(link));
  } catch (error) {
    const gone = error instanceof ApiError && [404, 409].includes(error.status);
    fill(notice(gone ? `${t("sign.gone")} ${error.status === 409 ? errorText(error) : ""}` : errorText(error), "error"));
  }
}

main();
