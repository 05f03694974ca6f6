// The console's REST client: the public /api with a Bearer token, errors as {"error": {"code", "message"}}.

const SESSION_KEY = "hub.session";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 0 ? "network" : "http_" + status);
    this.details = error;
  }
}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  localStorage.setItem(SESSION_KEY, JSON.stringify(value));
}

export function endSession(reason) {
  localStorage.removeItem(SESSION_KEY);
  location.assign(reason ? `/?reason=${encodeURIComponent(reason)}` : "/");
}

async function call(method, path, { json, form, token } = {}) {
  const headers = {};
  const auth = token ?? session()?.token;
  if (auth) headers.Authorization = `Bearer ${auth}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, { error: { code: "network", message: "network" } });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    // An expired or revoked session sends the person back to the login page, saying why.
    if (response.status === 401 && auth && !path.startsWith("/api/auth/")) {
      endSession(data?.error?.code === "token_revoked" ? "password_changed" : "expired");
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

export const api = {
  get: (path, params) => {
    const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)) : null;
    return call("GET", query && [...query].length ? `${path}?${query}` : path);
  },
  post: (path, json, options = {}) => call("POST", path, { json, ...options }),
  put: (path, json) => call("PUT", path, { json }),
  patch: (path, json) => call("PATCH", path, { json }),
  delete: (path) => call("DELETE", path),
  // A file the hub sends (an export), saved by the browser under the name the hub gives it.
  download: async (path, params) => {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
    const response = await fetch(`${path}?${query}`, { headers: { Authorization: `Bearer ${session()?.token}` } });
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1] || "export";
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(await response.blob()), download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  },
  upload: (path, file) => {
    const form = new FormData();
    form.append("file", file);
    return call("POST", path, { form });
  },
};
