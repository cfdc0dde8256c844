// Message catalogues (locale/<lang>.json, Kolibri style: {"screen.key": {"message", "context"}})
// and Swedish/English formatting of dates and numbers in Europe/Stockholm time.

const TZ = 'Europe/Stockholm';
const LANGS = ['sv', 'en'];
const catalogues = {};
let lang = 'sv';

export async function loadCatalogues() {
  await Promise.all(LANGS.map(async (l) => {
    const res = await fetch(`/assets/locale/${l}.json`, { credentials: 'same-origin' });
    catalogues[l] = await res.json();
  }));
}

export function languages() { return LANGS.slice(); }
export function getLang() { return lang; }
export function setLang(l) {
  lang = LANGS.includes(l) ? l : 'sv';
  document.documentElement.lang = lang;
}
export function locale() { return lang === 'sv' ? 'sv-SE' : 'en-GB'; }

function formatParam(v) {
  if (typeof v === 'number') return fmtNumber(v);
  return String(v);
}

// t('people.title') or t('pin.wait', {seconds: 30}). Unknown keys fall back to Swedish, then to
// the key itself (tests/app/check_locales.py keeps that from happening).
export function t(key, params) {
  const entry = (catalogues[lang] && catalogues[lang][key]) || (catalogues.sv && catalogues.sv[key]);
  if (!entry) return key;
  const p = params || {};
  return entry.message.replace(/\{(\w+)\}/g, (m, name) => (name in p ? formatParam(p[name]) : m));
}
export function has(key) { return !!(catalogues[lang] && catalogues[lang][key]); }

// Codes from the server mapped to plain words; unknown codes get a general sentence.
export function reasonText(code) { return has(`reason.${code}`) ? t(`reason.${code}`) : t('reason.unknown'); }
export function errorText(err) {
  const code = (err && err.code) || 'internal';
  const extra = (err && err.extra) || {};
  if (!has(`error.${code}`)) return t('error.internal');
  return t(`error.${code}`, {
    seconds: extra.retry_after_s || 0,
    count: extra.pending || 0,
    failures: extra.failures || 0,
  });
}

// Making an Intl formatter costs about 0.5 ms, using one a few µs: a screen of 200 occasions
// made 700 of them (half a second; docs/benchmarks.md "The tablet app"). One per locale and kind.
const formatters = new Map();
function formatter(Kind, loc, opts) {
  const key = `${Kind.name}|${loc}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) { f = new Kind(loc, opts); formatters.set(key, f); }
  return f;
}
const dateTime = (opts) => formatter(Intl.DateTimeFormat, locale(), { timeZone: TZ, ...opts });

export function fmtNumber(n) { return formatter(Intl.NumberFormat, locale(), {}).format(n); }
export function fmtTime(iso) {
  return dateTime({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}
export function fmtDate(iso) {
  return dateTime({ weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso));
}
export function fmtDateShort(iso) {
  return dateTime({ day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
}
// "YYYY-MM-DD" (a Stockholm day) as "söndag 29 november".
export function fmtDay(day) {
  return dateTime({ weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(`${day}T12:00:00Z`));
}
export function fmtMonth(month) {
  return dateTime({ month: 'long', year: 'numeric' }).format(new Date(`${month}-15T12:00:00Z`));
}
// "08:00–09:30, måndag 30 november"
export function fmtSpan(startIso, endIso) {
  return t('common.time_span', { day: fmtDate(startIso), start: fmtTime(startIso), end: fmtTime(endIso) });
}
export function stockholmDay(iso) {
  const parts = formatter(Intl.DateTimeFormat, 'en-GB', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}
export function minutesBetween(startIso, endIso) {
  return Math.max(0, Math.round((new Date(endIso) - new Date(startIso)) / 60000));
}
