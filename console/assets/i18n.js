// Message catalogues (locale/<lang>.json, Kolibri style: {"screen.key": {"message", "context"}})
// and Swedish/English formatting of dates and numbers in Europe/Stockholm time. Checked by
// tests/app/check_locales.py (ctest ConsoleLocales.EveryKeyInEveryLanguage).

const TZ = 'Europe/Stockholm';
const LANGS = ['sv', 'en'];
const BASE = '/console/assets/locale';
const catalogues = {};
let lang = 'sv';

export async function loadCatalogues() {
  await Promise.all(LANGS.map(async (l) => {
    const res = await fetch(`${BASE}/${l}.json`, { credentials: 'same-origin' });
    catalogues[l] = await res.json();
  }));
}

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

// t('people.title') or t('roster.for_person', {name: 'Anna'}). Unknown keys fall back to Swedish, then to
// the key itself (the locale check keeps that from happening).
export function t(key, params) {
  const entry = (catalogues[lang] && catalogues[lang][key]) || (catalogues.sv && catalogues.sv[key]);
  if (!entry) return key;
  const p = params || {};
  return entry.message.replace(/\{(\w+)\}/g, (m, name) => (name in p ? formatParam(p[name]) : m));
}
// The static page's words: every element with data-i18n="screen.key" (login.html).
export function translateDocument() {
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.getAttribute('data-i18n'));
}
export function has(key) { return !!(catalogues[lang] && catalogues[lang][key]); }

// Codes from the server in plain words; unknown codes get a general sentence.
export function reasonText(code) { return has(`reason.${code}`) ? t(`reason.${code}`) : t('reason.unknown'); }
export function errorText(err) {
  const code = (err && err.code) || 'internal';
  if (code === 'rejected') return reasonText(err.extra && err.extra.reason);
  if (!has(`error.${code}`)) return t('error.internal');
  return t(`error.${code}`);
}
// Words for a value of a model enumeration (gender, format, ...); unknown values as they are.
export function enumText(family, value) {
  if (value === null || value === undefined || value === '') return t('common.none');
  const key = `${family}.${value}`;
  return has(key) ? t(key) : String(value);
}

const formatters = new Map();
function formatter(Kind, loc, opts) {
  const key = `${Kind.name}|${loc}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) { f = new Kind(loc, opts); formatters.set(key, f); }
  return f;
}
const dateTime = (opts) => formatter(Intl.DateTimeFormat, locale(), { timeZone: TZ, ...opts });

export function fmtNumber(n, digits) {
  const opts = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return formatter(Intl.NumberFormat, locale(), opts).format(n);
}
export function fmtPercent(rate) {
  return formatter(Intl.NumberFormat, locale(), { style: 'percent', maximumFractionDigits: 0 }).format(rate);
}
export function fmtTime(iso) { return dateTime({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso)); }
export function fmtDate(iso) {
  return dateTime({ weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(iso));
}
export function fmtDateTime(iso) {
  return dateTime({ day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}
export function fmtDateLong(iso) {
  return dateTime({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
}
export function fmtMonth(month) {
  return dateTime({ month: 'long', year: 'numeric' }).format(new Date(`${month}-15T12:00:00Z`));
}
// "tis 1 dec. 2026 08:00–09:30" (Stockholm time)
export function fmtSpan(startIso, endIso) {
  return t('common.time_span', { day: fmtDate(startIso), start: fmtTime(startIso), end: fmtTime(endIso) });
}
// "3 dagar sedan" / "3 days ago" for a moment in ms.
export function fmtAgo(ms, now) {
  const days = Math.floor(((now || Date.now()) - ms) / 86400000);
  if (days <= 0) return t('common.today');
  if (days === 1) return t('common.yesterday');
  return t('common.days_ago', { days });
}

// ---- Europe/Stockholm wall time <-> UTC ----

function parts(ms) {
  const p = formatter(Intl.DateTimeFormat, 'en-GB', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const get = (type) => p.find((x) => x.type === type).value;
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute') };
}
// Offset of Stockholm from UTC at the instant ms, in ms (+1 h or +2 h).
function offsetAt(ms) {
  const p = parts(ms);
  const asUtc = Date.UTC(+p.y, +p.mo - 1, +p.d, +p.h, +p.mi);
  return asUtc - Math.floor(ms / 60000) * 60000;
}
// "2026-12-01" + "08:30" (Stockholm wall time) → "2026-12-01T07:30:00.000Z". null when invalid.
export function stockholmToIso(day, time) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  const tm = /^(\d{2}):(\d{2})$/.exec(time || '');
  if (!m || !tm) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +tm[1], +tm[2]);
  let utc = wall - offsetAt(wall);
  utc = wall - offsetAt(utc);  // the offset at the instant itself (the days DST changes)
  return new Date(utc).toISOString();
}
// ISO instant → {day: "YYYY-MM-DD", time: "HH:MM"} in Stockholm.
export function isoToStockholm(iso) {
  if (!iso) return { day: '', time: '' };
  const p = parts(new Date(iso).getTime());
  return { day: `${p.y}-${p.mo}-${p.d}`, time: `${p.h}:${p.mi}` };
}
export function stockholmMonth(ms) {
  const p = parts(ms === undefined ? Date.now() : ms);
  return `${p.y}-${p.mo}`;
}
// 90 → "1 h 30 min"
export function minutesText(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (!h) return t('common.minutes', { minutes: m });
  if (!m) return t('common.hours', { hours: h });
  return t('common.hours_minutes', { hours: h, minutes: m });
}
