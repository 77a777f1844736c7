// What every page shares: building elements, the header, the server's clock
// (simulated in simulation mode), times and countdowns, tables and progress
// bars. Forms, with the API's per-field errors beside each field: forms.js.
import { ApiError, get, session, signInAgain, signOut as endSession } from "./api.js";
import { joinList, label, lang, say, setLang, t, translate } from "./i18n.js";

export const CENTRE = ["centre_gm", "centre_deputy_gm", "centre_staff", "vp"];
export const hasRole = (me, ...roles) => roles.flat().some((r) => me.roles.includes(r));

// -- elements ------------------------------------------------------------------------------

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// el's children become these (nested lists flattened, null and false left out)
export function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function section(title, ...children) {
  const id = "s-" + Math.random().toString(36).slice(2, 9);
  return h("section", { class: "card", "aria-labelledby": id },
    h("h2", { id, text: title }), ...children);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim(), text });
}

export function stateBadge(state, apiLabel) {
  return badge(label("state", state, apiLabel), "state-" + state);
}

// A person as people read them: the name (the id in the title), or the id
// when no name is known. `names`: {person_id: name} (the complaint page's `people`).
export function person(id, names = {}) {
  if (!id) return "";
  const name = names[id];
  return name ? h("span", { class: "person", title: id, text: name }) : h("span", { class: "person", text: id });
}

export function complaintLink(id) {
  return h("a", { href: "/complaints/" + encodeURIComponent(id), text: id });
}

// -- messages ------------------------------------------------------------------------------

export function announce(message) {
  const region = $("#status");
  if (region) {
    region.textContent = "";
    setTimeout(() => { region.textContent = message; }, 50);
  }
}

export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t("msg.offline");
    if (error.code === "no_route") return t("msg.notdeployed");
    return say(error.message);
  }
  return String(error?.message || error);
}

export function notice(message, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : null, text: message });
}

// -- the server's clock (SPEC §9: countdowns run on the simulated time) --------------------

export const clock = {
  offsetMs: 0,
  zoneOffset: "+08:00",
  simulated: false,
  synced: false,
  async sync() {
    try {
      const state = await get("/api/clock");
      this.offsetMs = Date.parse(state.now) - Date.now();
      this.zoneOffset = state.local_now.slice(-6);
      this.simulated = state.simulated;
      this.synced = true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    return this;
  },
  now() { return new Date(Date.now() + this.offsetMs); },
  zoneMinutes() {
    const [, sign, hh, mm] = this.zoneOffset.match(/([+-])(\d\d):(\d\d)/) || [0, "+", "08", "00"];
    return (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  },
  // "YYYY-MM-DDTHH:MM" in the group's zone, for <input type=datetime-local>
  inputValue(date = this.now()) {
    return new Date(date.getTime() + this.zoneMinutes() * 60000).toISOString().slice(0, 16);
  },
  // an <input type=datetime-local> value as ISO 8601 with the group's offset
  isoFromInput(value) {
    return value ? `${value.length === 16 ? value + ":00" : value}${this.zoneOffset}` : null;
  },
};

// -- times ---------------------------------------------------------------------------------

// An ISO time (any offset) as the group's wall-clock time, "YYYY-MM-DD HH:MM".
export function fmtTime(iso) {
  if (!iso) return "";
  if (!clock.synced) {          // no clock (the customer's page): the time as the API wrote it
    const match = String(iso).match(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/);
    return match ? `${match[1]} ${match[2]}` : String(iso);
  }
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return String(iso);
  return clock.inputValue(new Date(at)).replace("T", " ");
}

export function fmtDuration(ms) {
  let seconds = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const days = Math.floor(seconds / 86400); seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600); seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60); seconds -= minutes * 60;
  const sep = lang === "en" ? " " : "";
  const parts = [];
  if (days) parts.push(days + sep + t("time.d"));
  if (hours) parts.push(hours + sep + t("time.h"));
  if (!days && minutes) parts.push(minutes + sep + t("time.m"));
  if (!days && !hours) parts.push(seconds + sep + t("time.s"));
  return parts.join(sep);
}

// Past a deadline: "已超期 N 天" from the first full day on (Art. 36 counts
// whole days), "已超时 N小时M分" before that.
export function lateText(lateMs) {
  const days = Math.floor(Math.abs(lateMs) / 86400000);
  return days >= 1 ? t("time.overdue", { n: days }) : t("time.late", { d: fmtDuration(lateMs) });
}

// A deadline's clock: "剩余 …" while it runs, red "已超期 N 天" once past.
export function countdown(dueIso) {
  const el = h("span", { class: "countdown", dataset: { due: dueIso } });
  tickOne(el);
  return el;
}

function tickOne(el) {
  const left = Date.parse(el.dataset.due) - clock.now().getTime();
  el.textContent = left >= 0 ? t("time.left", { d: fmtDuration(left) }) : lateText(-left);
  el.classList.toggle("late", left < 0);
  el.classList.toggle("soon", left >= 0 && left < 30 * 60000);
}

setInterval(() => document.querySelectorAll(".countdown").forEach(tickOne), 1000);
setInterval(() => { if (clock.synced) clock.sync(); }, 60000);

// -- the page's frame ----------------------------------------------------------------------

const NAV = [
  { href: "/", key: "nav.work", show: () => true },
  { href: "/desk", key: "nav.desk", show: (me) => hasRole(me, "specialist") },
  { href: "/complaints", key: "nav.complaints", show: (me) => hasRole(me, CENTRE, "admin", "specialist") },
  { href: "/board", key: "nav.board", show: (me) => hasRole(me, CENTRE, "admin") },
  { href: "/reports", key: "nav.reports", show: (me) => hasRole(me, CENTRE, "hr", "finance", "admin", "head") },
  { href: "/my/deductions", key: "nav.mine", show: () => true },
];

function langButton() {
  return h("button", {
    type: "button", class: "link lang", text: t("lang.switch"), "aria-label": t("lang.switch.label"),
    lang: lang === "en" ? "zh-CN" : "en", onclick: () => setLang(lang === "en" ? "zh" : "en"),
  });
}

export function header(me) {
  const top = $("#top");
  const nav = h("nav", { "aria-label": t("nav.menu") }, h("ul", {},
    NAV.filter((item) => !me || item.show(me)).map((item) => h("li", {},
      h("a", {
        href: item.href, text: t(item.key),
        "aria-current": location.pathname === item.href ? "page" : null,
      })))));
  const who = me ? h("span", { class: "who" }, me.name,
    h("small", {}, " · ", joinList(me.roles.map((r) => label("role", r))))) : null;
  const signOut = me ? h("button", {
    type: "button", class: "link", text: t("nav.signout"),
    onclick: endSession,
  }) : null;
  top.replaceChildren(h("div", { class: "bar" },
    h("a", { class: "brand", href: "/", text: t("app.name") }), me ? nav : null,
    h("div", { class: "tools" }, who, langButton(), signOut)));
}

// Signed-in pages: who is signed in, or back to the sign-in page.
export async function start() {
  translate();
  if (!session.token) {
    signInAgain();
    return new Promise(() => {});
  }
  const [me] = await Promise.all([get("/api/me"), clock.sync()]);
  header(me);
  return me;
}

// A page's main content, once: replaces the loading message.
export function fill(...children) {
  const main = replace($("#main"), ...children);
  main.removeAttribute("aria-busy");
  return main;
}

export function failPage(error) {
  fill(notice(errorText(error), "error"));
}

// -- tables --------------------------------------------------------------------------------

// columns: [{label, value: (row) => node|text, class}]
// quiet: the caption is for screen readers only (the section's heading says it)
export function table(columns, rows, { caption, empty, quiet = false } = {}) {
  if (!rows.length && empty) return h("p", { class: "muted", text: empty });
  const cell = (value) => (value instanceof Node ? value : document.createTextNode(value ?? ""));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || null },
    h("table", {},
      caption ? h("caption", { text: caption, class: quiet ? "sr-only" : null }) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class, text: c.label })))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        columns.map((c) => h("td", { class: c.class, "data-label": c.label }, cell(c.value(row)))))))));
}

export function definitions(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v instanceof Node ? v : String(v))]));
}

// -- progress ------------------------------------------------------------------------------

export function progress(text) {
  const bar = h("progress", { max: 100, "aria-label": text || null });
  const caption = h("span", { class: "progress-text", text: text || "" });
  const el = h("div", { class: "progress", role: "status" }, bar, caption);
  return {
    el,
    set(fraction, message) {
      if (fraction === null || fraction === undefined) bar.removeAttribute("value");
      else bar.value = Math.round(fraction * 100);
      if (message !== undefined) caption.textContent = message;
    },
  };
}
