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
  if (lang === "zh" && apiLabel) return say(apiLabel);
  return name ?? String(code);
}

// A server text in the page's language. The services write "中文 (English)":
// the Chinese before the last bracket, the English inside it. A text without
// the bracket is shown as it is.
export function say(text) {
  if (text === null || text === undefined) return "";
  const message = String(text).trim();
  if (!message.endsWith(")")) return message;
  let depth = 0;
  for (let i = message.length - 1; i >= 0; i -= 1) {
    if (message[i] === ")") depth += 1;
    else if (message[i] === "(" && --depth === 0) {
      const zh = message.slice(0, i).trim();
      const en = message.slice(i + 1, -1).trim();
      if (!zh || !/[\u3400-\u9fff]/.test(zh)) return message;   // not the pair
      return lang === "en" ? en : zh;
    }
  }
  return message;
}

// One field error of the error body ({code, params, message}: SPEC §10's
// field_errors) in the page's words; a code without words: the message.
export function fieldError(entry) {
  if (typeof entry === "string") return say(entry);
  const key = "err." + entry.code;
  if (key in words) return t(key, entry.params || {});
  return say(entry.message);
}

export const hasWord = (key) => key in words;

// A list as the language writes one: 甲、乙、丙 / a, b, c.
export function joinList(items) {
  return items.filter((x) => x !== null && x !== undefined && x !== "").join(lang === "en" ? ", " : "、");
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
