// Forms: fields with their labels and hints, the checks a form runs before it
// sends anything, and the API's per-field errors shown beside each field.
import { fieldError, t } from "./i18n.js";
import { clock, errorText, h } from "./ui.js";

let formCount = 0;

// spec: {name, label, type, options: [[value, text]], required, value, hint, rows, min, max}
export function field(spec, formId) {
  const id = `${formId}-${spec.name}`;
  const errorId = id + "-error";
  const hintId = spec.hint ? id + "-hint" : null;
  const common = {
    id, name: spec.name, required: spec.required || null,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
  };
  let control;
  if (spec.type === "textarea") {
    control = h("textarea", { ...common, rows: spec.rows || 3, maxlength: spec.max || null });
    control.value = spec.value ?? "";
  } else if (spec.type === "select") {
    control = h("select", common, spec.options.map(([value, text]) => h("option", { value, text })));
    if (spec.value !== undefined) control.value = spec.value;
  } else if (spec.type === "radio" || spec.type === "stars") {
    const legend = h("legend", {}, spec.label, spec.required ? h("span", { class: "req", "aria-hidden": "true", text: " *" }) : null);
    control = h("fieldset", { class: spec.type === "stars" ? "stars" : "choices", id, "aria-describedby": errorId },
      legend, spec.options.map(([value, text], i) => h("label", {},
        h("input", {
          type: "radio", name: spec.name, value, required: (spec.required && i === 0) || null,
          checked: String(spec.value) === String(value) || null,
        }), h("span", { text }))));
    return h("div", { class: "field", dataset: { name: spec.name, type: spec.type } }, control,
      spec.hint ? h("p", { class: "hint", id: hintId, text: spec.hint }) : null,
      h("p", { class: "field-error", id: errorId }));
  } else if (spec.type === "checkbox") {
    control = h("input", { ...common, type: "checkbox", checked: spec.value || null });
    return h("div", { class: "field check", dataset: { name: spec.name, type: spec.type } },
      h("label", { for: id }, control, " ", spec.label),
      h("p", { class: "field-error", id: errorId }));
  } else {
    const type = spec.type === "datetime" ? "datetime-local" : spec.type || "text";
    control = h("input", {
      ...common, type, min: spec.min ?? null, max: spec.max ?? null, step: spec.step ?? null,
      inputmode: spec.inputmode || null, autocomplete: spec.autocomplete || "off",
    });
    if (spec.value !== undefined && spec.value !== null) control.value = spec.value;
  }
  return h("div", { class: "field", dataset: { name: spec.name, type: spec.type || "text" } },
    h("label", { for: id }, spec.label,
      spec.required ? h("span", { class: "req", "aria-hidden": "true", text: " *" }) : null),
    spec.hint ? h("p", { class: "hint", id: hintId, text: spec.hint }) : null,
    control, h("p", { class: "field-error", id: errorId }));
}

// A form of fields; `submit(values, form)` runs with the button busy, and an
// ApiError's fields are shown beside the matching field. `check(values, form)`,
// when given, runs first: {name: [code | {code, params}]} shown all at once,
// and nothing is sent while any is left.
export function form({ fields, submitText, submit, extra = [], className = "", check = null }) {
  const formId = "form" + ++formCount;
  const el = h("form", { class: `form ${className}`.trim(), novalidate: true, id: formId },
    fields.map((spec) => field(spec, formId)), extra,
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary", text: submitText })));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el);
    const found = check ? check(values(el, fields), el) : {};
    if (Object.keys(found).length) {
      showErrors(el, { fieldErrors: Object.fromEntries(Object.entries(found).map(([name, list]) =>
        [name, [].concat(list).map((e) => (typeof e === "string" ? { code: e } : e))])) });
      return;
    }
    const button = el.querySelector("button[type=submit]");
    button.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      await submit(values(el, fields), el);
    } catch (error) {
      showErrors(el, error);
    } finally {
      button.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

export function values(formEl, fields) {
  const out = {};
  for (const spec of fields) {
    if (spec.type === "radio" || spec.type === "stars") {
      const checked = formEl.querySelector(`input[name="${spec.name}"]:checked`);
      const value = checked ? checked.value : null;
      out[spec.name] = spec.number && value !== null ? Number(value) : value;
      continue;
    }
    const control = formEl.querySelector(`[name="${spec.name}"]`);
    if (!control) continue;
    if (spec.type === "checkbox") out[spec.name] = control.checked;
    else if (spec.type === "datetime") out[spec.name] = clock.isoFromInput(control.value);
    else if (spec.type === "number") out[spec.name] = control.value === "" ? null : Number(control.value);
    else out[spec.name] = control.value.trim() === "" ? null : control.value;
  }
  return out;
}

export function clearErrors(formEl) {
  for (const p of formEl.querySelectorAll(".field-error")) p.textContent = "";
  for (const c of formEl.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  const general = formEl.querySelector(".form-error");
  if (general) general.textContent = "";
}

// Every field's errors in the page's words (their codes: error.fieldErrors;
// an older body's plain messages: error.fields).
export function fieldMessages(error) {
  const coded = error?.fieldErrors || {};
  const names = new Set([...Object.keys(error?.fields || {}), ...Object.keys(coded)]);
  return Object.fromEntries([...names].map((name) => [name,
    coded[name] ? coded[name].map(fieldError) : [].concat(error.fields[name]).map(fieldError)]));
}

// Required fields left empty: {name: ["required"]}, a choice not made
// {name: ["choice"]} (a form's `check` starts here).
export function missing(fields, vals) {
  const found = {};
  for (const spec of fields) {
    const value = vals[spec.name];
    if (!spec.required || (value !== null && value !== undefined && value !== "")) continue;
    found[spec.name] = [["select", "radio", "stars"].includes(spec.type) ? "choice" : "required"];
  }
  return found;
}

export function showErrors(formEl, error) {
  const general = formEl.querySelector(".form-error");
  const leftover = [];
  let first = null;
  const byField = fieldMessages(error);
  for (const [name, messages] of Object.entries(byField)) {
    const holder = formEl.querySelector(`.field[data-name="${CSS.escape(name)}"]`);
    if (!holder) { leftover.push(messages.join(t("msg.sep"))); continue; }
    holder.querySelector(".field-error").textContent = messages.join(t("msg.sep"));
    const control = holder.querySelector("input, select, textarea, fieldset, canvas");
    control?.setAttribute("aria-invalid", "true");
    first = first || control;
  }
  const message = Object.keys(byField).length ? t("msg.fix") : errorText(error);
  if (general) general.textContent = [message, ...leftover].join(" ");
  (first?.matches("fieldset") ? first.querySelector("input") : first)?.focus();
  if (!first) general?.focus?.();
}
