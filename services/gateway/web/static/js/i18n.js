// The console in zh-CN (the default) or English. Static text in the pages
// names its key in data-i18n (text), data-i18n-placeholder, data-i18n-label
// (aria-label) or data-i18n-title; scripts call t(key). Codes from the API
// (states, categories, roles, rules ...) read through label(kind, code):
// in Chinese the API's own label when it gave one. Only the chosen
// language's words are loaded (words/zh.js or words/en.js).

const LANG_KEY = "ccrm.lang";

export const lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";

const { words, codes } = lang === "en" ? await import("./words/en.js") : await import("./words/zh.js");

export function t(key, vars = {}) {
  const text = words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// A code's name in the page's language (the API's Chinese label first).
export function label(kind, code, apiLabel) {
  if (code === null || code === undefined || code === "") return "";
  const name = codes[kind]?.[code];
  if (lang === "zh" && apiLabel) return apiLabel;
  return name ?? String(code);
}

export function codesOf(kind) {
  return Object.keys(codes[kind] || {});
}

export function setLang(next) {
  localStorage.setItem(LANG_KEY, next);
  location.reload();
}

export function translate(root = document) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
