// The gateway's JSON API (SPEC §10) as the pages use it: the person's token
// from sessionStorage (put there by the sign-in page, /signin), errors as
// ApiError (with the per-field messages and the whole error body),
// an Idempotency-Key on every step so a repeated click does a step once, and
// uploads and downloads through XMLHttpRequest for their progress events.

const TOKEN_KEY = "ccrm.token";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
};

export class ApiError extends Error {
  constructor(status, error = {}) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 0 ? "network" : "http_" + status);
    this.fields = error.fields || {};
    this.fieldErrors = error.field_errors || {};   // the same, each with its code
    this.body = error;        // e.g. a 429's retry_after and locked_until
  }
}

export function signInAgain() {
  session.clear();
  const next = location.pathname + location.search;
  location.assign("/signin?next=" + encodeURIComponent(next));
}

// Sign-out: the session is revoked on the server (DELETE /api/auth/session),
// then forgotten here, whatever the answer.
export async function signOut() {
  if (session.token) {
    try {
      await call("DELETE", "/api/auth/session", { relogin: false });
    } catch { /* already expired or revoked, or offline: forgotten below all the same */ }
  }
  session.clear();
  location.assign("/signin");
}

function headersFor(auth, extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (auth && session.token) headers.Authorization = "Bearer " + session.token;
  return headers;
}

async function errorOf(response) {
  let body = {};
  try { body = await response.json(); } catch { /* a page, not our JSON */ }
  if (!body.error && response.status === 404) {
    // no such route: the service behind it is not deployed in this gateway
    return new ApiError(404, { code: "no_route", message: "Not Found" });
  }
  return new ApiError(response.status, body.error);
}

// crypto.randomUUID needs a secure context; getRandomValues does not.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function query(params = {}) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? "?" + new URLSearchParams(entries).toString() : "";
}

// GET or POST JSON. `auth: false` for the customer's link (no token).
export async function call(method, path, { body, auth = true, params, token, relogin = true } = {}) {
  const extra = {};
  if (body !== undefined) extra["Content-Type"] = "application/json";
  if (method === "POST" && auth) extra["Idempotency-Key"] = newKey();
  let response;
  try {
    response = await fetch(path + query(params), {
      method, headers: token ? { ...headersFor(false, extra), Authorization: "Bearer " + token }
        : headersFor(auth, extra),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { message: "network" });
  }
  if (response.status === 401 && auth && relogin && !token) signInAgain();
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

export const get = (path, params) => call("GET", path, { params });
export const post = (path, body) => call("POST", path, { body: body ?? {} });

function xhr(method, path, { form, auth = true, responseType = "json", onProgress }) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, path);
    request.responseType = responseType;
    for (const [name, value] of Object.entries(headersFor(auth))) {
      if (responseType === "json" || name !== "Accept") request.setRequestHeader(name, value);
    }
    const report = (event) => onProgress?.(event.lengthComputable ? event.loaded / event.total : null);
    if (form) request.upload.addEventListener("progress", report);
    else request.addEventListener("progress", report);
    request.addEventListener("error", () => reject(new ApiError(0, { message: "network" })));
    request.addEventListener("load", async () => {
      if (request.status === 401 && auth) signInAgain();
      if (request.status >= 200 && request.status < 300) {
        onProgress?.(1);
        resolve(request.response);
        return;
      }
      let body = request.response;
      if (body instanceof Blob) {
        try { body = JSON.parse(await body.text()); } catch { body = null; }
      }
      reject(new ApiError(request.status, body?.error || {}));
    });
    request.send(form || null);
  });
}

// POST /api/media (or a link's /media): multipart `file` plus fields.
// {project id: name} of the directory's projects, asked once a page; {} when
// the directory does not answer (the page shows the id then).
let projectNamesAsked = null;
export function projectNames() {
  projectNamesAsked ??= get("/api/projects", { limit: 500 })
    .then((answer) => Object.fromEntries((answer.items || []).map((p) => [p.id, p.name])))
    .catch(() => ({}));
  return projectNamesAsked;
}

export function upload(path, blob, filename, fields = {}, { auth = true, onProgress } = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== "") form.append(name, value);
  }
  form.append("file", blob, filename);
  return xhr("POST", path, { form, auth, onProgress });
}

// A file answer (a report's CSV or XLSX) saved by the browser.
export async function download(path, filename, { onProgress } = {}) {
  const blob = await xhr("GET", path, { responseType: "blob", onProgress });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}
