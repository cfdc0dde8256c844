// Fetch wrapper for the tablet app's JSON API (notes: app-api.md). Errors become ApiError
// carrying the server's code (never its English text) and any extra fields.

export class ApiError extends Error {
  constructor(status, code, extra) {
    super(code);
    this.status = status;
    this.code = code;
    this.extra = extra || {};
  }
}

let onLocked = () => {};
let onActivity = () => {};
export function setLockedHandler(fn) { onLocked = fn; }
export function setActivityHandler(fn) { onActivity = fn; }

async function request(method, path, body, background) {
  const headers = { Accept: 'application/json' };
  if (method === 'POST') headers['Content-Type'] = 'application/json';
  if (background) headers['X-Tundra-Background'] = '1';
  else onActivity();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: method === 'POST' ? JSON.stringify(body || {}) : undefined,
    });
  } catch (e) {
    // The app server itself is unreachable (it runs on this tablet, so this is rare).
    throw new ApiError(0, 'internal', {});
  }
  if (res.status === 204) return {};
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const code = typeof err.code === 'string' ? err.code : 'internal';
    const extra = Object.assign({}, err);
    delete extra.code;
    delete extra.message;  // never shown: the catalogue says it in plain words
    // Locked (idle, or another tab switched person) or revoked (remote wipe): back to the people.
    if (code === 'locked' || code === 'revoked') onLocked(code);
    throw new ApiError(res.status, code, extra);
  }
  return data || {};
}

export const api = {
  get: (path, opts = {}) => request('GET', path, null, !!opts.background),
  post: (path, body) => request('POST', path, body, false),
};
