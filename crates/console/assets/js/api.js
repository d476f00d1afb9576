// The admin API, as the signed-in caller: its key or token is kept for this tab only.

const STORE = "switchyard.console.token";

export function token() {
  return sessionStorage.getItem(STORE);
}

export function signIn(t) {
  sessionStorage.setItem(STORE, t.trim());
}

export function signOut() {
  sessionStorage.removeItem(STORE);
}

/** An error the API answered, with its status and message. */
export class ApiError extends Error {
  constructor(status, message, param) {
    super(message);
    this.status = status;
    this.param = param;
  }
}

/** `GET`/`POST`/... `/admin/v1` + path; the parsed JSON, or an ApiError. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { authorization: `Bearer ${token() || ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const resp = await fetch(`/admin/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const e = data && data.error;
    throw new ApiError(resp.status, (e && e.message) || `${resp.status} ${resp.statusText}`, e && e.param);
  }
  return data;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
