// `/signin`: sign in with the mobile number and the SMS code
// (POST /api/auth/code, then POST /api/auth/session); with the group's OpenID
// Connect provider when it is configured (GET /api/auth/oidc: the
// "使用集团账号登录" button goes to /api/auth/oidc/start; the provider's
// callback lands back here with `?oidc=<one-time code>`, traded for the
// session by POST /api/auth/oidc/session, or `?oidc_error=<reason>`, said in
// words below); in simulation mode also
// the demo people to pick from (GET /api/auth/demo-people, one click:
// POST /api/auth/demo-session); and, folded away, an operator's API token.
// The session's token goes to sessionStorage (api.js), then on to `next`.
import { ApiError, call, session } from "../api.js";
import { joinList, label, lang, say, t, translate } from "../i18n.js";
import { announce, errorText, fill, fmtTime, h, header, notice, section } from "../ui.js";
import { clearErrors, field, form, showErrors, values } from "../forms.js";

// This page's own words for the group-account sign-in (the shared lists are the core's).
const OIDC_WORDS = {
  zh: {
    title: "集团账号登录", button: "使用集团账号登录", or: "或使用手机验证码登录",
    hint: "使用集团统一身份认证（单点登录）账号登录，无需验证码。", working: "正在完成集团账号登录…",
    not_configured: "集团账号登录未启用，请使用手机验证码登录。",
    provider: "集团身份认证服务暂时无法访问，请稍后重试，或使用手机验证码登录。",
    state: "登录请求已失效或不是从本页面发起的，请重新点击“使用集团账号登录”。",
    denied: "集团身份认证未完成（已取消或被拒绝），请重试。",
    token: "集团身份认证返回的登录凭证校验未通过，请重新登录；如仍失败请联系管理员。",
    unknown_person: "该集团账号未对应组织架构中的在职人员，请联系管理员核对账号，或使用手机验证码登录。",
    handoff: "集团账号登录已失效，请重新登录。",
  },
  en: {
    title: "Group account", button: "Sign in with the group account", or: "or with an SMS code",
    hint: "Sign in with the group's single sign-on account; no code needed.", working: "Finishing the group sign-in…",
    not_configured: "Group account sign-in is not enabled: use an SMS code.",
    provider: "The group's sign-in service cannot be reached: try again later, or use an SMS code.",
    state: "This sign-in expired or was not started from this page: click the button again.",
    denied: "The group sign-in was cancelled or refused: try again.",
    token: "The group sign-in's token did not check out: sign in again; if it persists, call the admin.",
    unknown_person: "This group account is no active person of the directory: ask the admin, or use an SMS code.",
    handoff: "The group sign-in expired: sign in again.",
  },
}[lang] || {};
const ow = (key) => OIDC_WORDS[key] || key;

function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin")
    ? next : "/";
}

function signedIn(token) {
  session.set(token);
  location.replace(nextPath());
}

// A 429's until-time (a lock) under the number, and in the message above the form.
function lockText(error) {
  return error instanceof ApiError && error.code === "locked" && error.body?.locked_until
    ? t("signin.locked", { until: fmtTime(error.body.locked_until) }) : null;
}

function asApiError(error) {
  const locked = lockText(error);
  if (!locked) return error;
  return new ApiError(error.status, { code: error.code, message: locked, fields: { mobile: [locked] } });
}

async function publicCall(method, path, body) {
  try {
    return await call(method, path, { body, auth: false });
  } catch (error) {
    throw asApiError(error);
  }
}

function smsForm() {
  const status = h("p", { class: "hint", role: "status" });
  let waitTimer = null;
  const sendButton = h("button", { type: "button", class: "send-code", text: t("signin.getcode") });

  const fields = [
    { name: "mobile", label: t("signin.mobile"), type: "tel", required: true, inputmode: "numeric", autocomplete: "tel" },
    { name: "code", label: t("signin.code"), required: true, inputmode: "numeric", autocomplete: "one-time-code" },
  ];
  const submitButton = h("button", { type: "submit", class: "primary", text: t("signin.submit") });
  const el = h("form", { class: "form sms-signin", novalidate: true, id: "signin-sms" },
    fields.map((spec) => field(spec, "signin-sms")),
    h("p", { class: "form-error", role: "alert" }), h("div", { class: "buttons" }, submitButton));
  // The API's field errors beside the fields; a lock's until-time also above the button.
  const showFailure = (error) => {
    showErrors(el, error);
    if (error.code !== "locked") return;
    el.querySelector(".form-error").textContent = say(error.message);
    status.textContent = "";
  };
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el);
    const { mobile, code } = values(el, fields);
    if (mobile && !code && !sendButton.disabled) {
      sendButton.click();           // Enter in the number's field: get the code
      return;
    }
    const missing = {};
    if (!mobile) missing.mobile = [t("signin.mobile.missing")];
    if (!code) missing.code = [t("signin.code.missing")];
    if (Object.keys(missing).length) return showFailure(new ApiError(400, { fields: missing }));
    submitButton.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      const answer = await publicCall("POST", "/api/auth/session", { mobile: mobile.trim(), code: code.trim() });
      announce(t("signin.done"));
      signedIn(answer.token);
    } catch (error) {
      showFailure(error);
    } finally {
      submitButton.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  const mobileField = el.querySelector('.field[data-name="mobile"]');
  const codeInput = el.querySelector('input[name="code"]');
  codeInput.maxLength = 6;
  mobileField.querySelector("input").maxLength = 20;
  mobileField.insertBefore(h("div", { class: "buttons" }, sendButton, status),
    mobileField.querySelector(".field-error"));

  function waitToResend(seconds) {
    clearInterval(waitTimer);
    let left = seconds;
    sendButton.disabled = true;
    const show = () => { sendButton.textContent = t("signin.resend", { n: left }); };
    show();
    waitTimer = setInterval(() => {
      left -= 1;
      if (left > 0) return show();
      clearInterval(waitTimer);
      sendButton.disabled = false;
      sendButton.textContent = t("signin.getcode");
    }, 1000);
  }

  sendButton.addEventListener("click", async () => {
    clearErrors(el);
    status.textContent = "";
    const mobile = el.querySelector('input[name="mobile"]').value.trim();
    if (!mobile) {
      showErrors(el, new ApiError(400, { fields: { mobile: [t("signin.mobile.missing")] } }));
      return;
    }
    sendButton.disabled = true;
    try {
      const answer = await publicCall("POST", "/api/auth/code", { mobile });
      status.textContent = t("signin.sent", { minutes: answer.valid_minutes });
      announce(status.textContent);
      waitToResend(answer.resend_after || 60);
      codeInput.focus();
    } catch (error) {
      sendButton.disabled = false;
      if (error instanceof ApiError && error.status === 429 && error.body?.retry_after && error.code !== "locked") {
        waitToResend(error.body.retry_after);
      }
      showFailure(error);
    }
  });
  return el;
}

async function demoPicker() {
  let people;
  try {
    people = (await call("GET", "/api/auth/demo-people", { auth: false })).items;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.code === "no_route")) return null;
    return section(t("signin.demo"), notice(errorText(error), "error"));
  }
  const groups = new Map();
  for (const person of people) {
    const key = joinList((person.roles || []).map((r) => label("role", r))) || "—";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(person);
  }
  const failure = h("p", { class: "form-error", role: "alert" });
  const pick = async (person, button) => {
    failure.textContent = "";
    button.disabled = true;
    try {
      const answer = await call("POST", "/api/auth/demo-session", { body: { person_id: person.person_id }, auth: false });
      signedIn(answer.token);
    } catch (error) {
      button.disabled = false;
      failure.textContent = errorText(error);
    }
  };
  return section(t("signin.demo"),
    h("p", { class: "hint", text: t("signin.demo.hint") }), failure,
    [...groups].map(([roleLabels, members]) => h("details", { class: "action demo-group" },
      h("summary", { text: t("signin.group", { roles: roleLabels, n: members.length }) }),
      h("div", { class: "action-body buttons" }, members.map((person) => {
        const button = h("button", {
          type: "button", class: "demo-person", dataset: { person: person.person_id },
          "aria-label": t("signin.as", { name: person.name }),
        }, person.name, person.unit_name ? h("small", { class: "muted", text: ` · ${person.unit_name}` }) : null);
        button.addEventListener("click", () => pick(person, button));
        return button;
      })))));
}

// Operators and machine clients keep their API tokens (an admin issues them).
function tokenForm() {
  return h("details", { class: "action token-signin" },
    h("summary", { text: t("signin.operator") }),
    h("div", { class: "action-body" },
      h("p", { class: "hint", text: t("signin.hint") }),
      form({
        fields: [{ name: "token", label: t("signin.token"), required: true, type: "password", autocomplete: "off" }],
        submitText: t("signin.submit"),
        async submit(values) {
          const token = (values.token || "").trim();
          try {
            await call("GET", "/api/me", { token });
          } catch (error) {
            if (error instanceof ApiError && error.status === 401) {
              throw new ApiError(401, { message: t("signin.bad"), fields: { token: [t("signin.bad")] } });
            }
            throw error;
          }
          signedIn(token);
        },
      })));
}

// Back from the provider: trade the one-time code for the session, or say why not.
async function oidcReturn() {
  const params = new URLSearchParams(location.search);
  const handoff = params.get("oidc");
  const reason = params.get("oidc_error");
  if (!handoff && !reason) return null;
  params.delete("oidc");
  params.delete("oidc_error");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  if (reason) return ow(reason in OIDC_WORDS ? reason : "provider");
  fill(h("p", { class: "muted", role: "status", text: ow("working") }));
  try {
    const answer = await call("POST", "/api/auth/oidc/session", { body: { handoff }, auth: false });
    announce(t("signin.done"));
    signedIn(answer.token);
    return "";
  } catch (error) {
    return error instanceof ApiError && error.status === 401 ? ow("handoff") : errorText(error);
  }
}

async function oidcButton() {
  let info;
  try {
    info = await call("GET", "/api/auth/oidc", { auth: false });
  } catch {
    return null;          // an older gateway, or none: the SMS code still works
  }
  if (!info.enabled) return null;
  const next = new URLSearchParams(location.search).get("next");
  const href = info.start_url + (next ? "?" + new URLSearchParams({ next: nextPath() }) : "");
  return section(ow("title"),
    h("p", { class: "hint", text: ow("hint") }),
    h("div", { class: "buttons" }, h("a", { class: "button primary oidc-start", href, text: ow("button") })),
    h("p", { class: "muted", text: ow("or") }));
}

async function main() {
  translate();
  header(null);
  const failure = await oidcReturn();
  if (failure === "") return;                   // signed in: on the way to `next`
  const [picker, oidc] = await Promise.all([demoPicker(), oidcButton()]);
  const sms = section(t("signin.sms"), h("p", { class: "hint", text: t("signin.sms.hint") }),
    smsForm(), tokenForm());
  const signIn = oidc ? h("div", {}, oidc, sms) : sms;
  fill(h("h1", { text: t("signin.title") }), failure ? notice(failure, "error") : null,
    picker ? h("div", { class: "columns" }, signIn, picker) : signIn);
  document.querySelector('#main input[name="mobile"]')?.focus();
}

main();
