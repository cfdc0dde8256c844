// Fetch wrapper for the console's JSON API (/console/api; docs/console.md). Errors become
// ApiError with the server's code (never its English text); 401 goes back to the sign-in page.

export class ApiError extends Error {
  constructor(status, code, extra) {
    super(code);
    this.status = status;
    this.code = code;
    this.extra = extra || {};
  }
}

const BASE = '/console/api';
let csrf = '';
let onActivity = () => {};
export function setCsrf(token) { csrf = token; }
export function setActivityHandler(fn) { onActivity = fn; }
export function toLogin() { location.assign('/console/login?e=expired'); }

async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrf;
    headers['Content-Type'] = opts.contentType || 'application/json';
  }
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: method === 'GET' ? undefined : (opts.raw ? body : JSON.stringify(body || {})),
    });
  } catch (e) {
    throw new ApiError(0, 'network', {});
  }
  onActivity();
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    if (res.status === 401) { toLogin(); throw new ApiError(401, 'unauthorized', {}); }
    const err = (data && data.error) || {};
    const code = typeof err.code === 'string' ? err.code : 'internal';
    const extra = Object.assign({}, err);
    delete extra.code;
    delete extra.message;  // never shown: the catalogue says it in plain words
    if (typeof err.message === 'string') extra.detail = err.message;  // a bad import file names its line
    if (data && data.outcome) extra.outcome = data.outcome;
    throw new ApiError(res.status, code, extra);
  }
  return { data: data || {}, headers: res.headers };
}

export const api = {
  get: async (path, query) => (await request('GET', withQuery(path, query))).data,
  getFull: (path, query) => request('GET', withQuery(path, query)),
  post: async (path, body) => (await request('POST', path, body)).data,
  upload: async (path, file, contentType) => (await request('POST', path, file, { raw: true, contentType })).data,
};

export function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
export function apiUrl(path, query) { return BASE + withQuery(path, query); }
