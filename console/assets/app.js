// The console shell: who is signed in (GET /api/me), the header (user, role, language,
// sign out), navigation by role, the hash router and the session expiry warning. Views live in
// views/*.js; each exports render(params, ctx) returning a node that starts with its one h1.
import { api, setCsrf, setActivityHandler, ApiError, toLogin } from './api.js';
import { loadCatalogues, t, setLang, getLang, errorText } from './i18n.js';
import { el, button, uid, setPageInert } from './ui.js';
import { icon } from './icons.js';

const WARN_BEFORE_MS = 2 * 60 * 1000;  // WCAG 2.2.1: say so before the session ends

// Routes: pattern → [module, access ('staff' | 'admin'), print page].
const ROUTES = [
  ['catalogue', 'catalogue', 'admin'],
  ['course/new', 'course', 'admin'],
  ['course/:id', 'course', 'admin'],
  ['occasions', 'occasions', 'staff'],
  ['occasion/:id', 'occasion', 'staff'],
  ['people', 'people', 'staff'],
  ['person/:id', 'person', 'staff'],
  ['users', 'users', 'admin'],
  ['devices', 'devices', 'admin'],
  ['import', 'import', 'admin'],
  ['reports', 'reports', 'staff'],
  ['deviations', 'deviations', 'staff'],
  ['print/attendance/:occasion', 'print_attendance', 'staff', true],
  ['print/certificate/:occasion/:person', 'print_certificate', 'staff', true],
];

// Navigation by role: [route, words, icon].
function navItems(role) {
  if (role === 'admin') {
    return [['#/catalogue', t('nav.catalogue'), 'book'], ['#/people', t('nav.people'), 'people'], ['#/users', t('nav.users'), 'key'],
      ['#/devices', t('nav.devices'), 'tablet'], ['#/import', t('nav.import'), 'upload'], ['#/reports', t('nav.reports'), 'chart'],
      ['#/deviations', t('nav.deviations'), 'warning']];
  }
  return [['#/occasions', t('nav.occasions'), 'calendar'], ['#/people', t('nav.people'), 'people'],
    ['#/deviations', t('nav.deviations'), 'warning'], ['#/reports', t('nav.reports'), 'chart']];
}

const state = { me: null, renderSeq: 0, deadline: 0, hardDeadline: 0, warnTimer: null, warning: null };

function matchRoute(hash) {
  const [path, query] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const [pattern, module, access, print] of ROUTES) {
    const pp = pattern.split('/');
    if (pp.length !== parts.length) continue;
    const params = { query: new URLSearchParams(query || '') };
    let ok = true;
    pp.forEach((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = parts[i];
      else if (p !== parts[i]) ok = false;
    });
    if (ok) return { name: pattern, module, access, print: !!print, params };
  }
  return null;
}

function isAdmin() { return state.me && state.me.role === 'admin'; }
function homeRoute() { return isAdmin() ? '#/catalogue' : '#/occasions'; }

export function navigate(hash) {
  if (location.hash === hash) render(true);
  else location.hash = hash;
}

// Says a sentence to screen readers (the live region), e.g. "Saved".
export function announce(text) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

const ctx = {
  api,
  navigate,
  announce,
  me: () => state.me,
  isAdmin,
  rerender: (key) => render(false, key),
};

async function render(moveFocus, keepKey) {
  const seq = ++state.renderSeq;
  const route = matchRoute(location.hash);
  if (!route || (route.access === 'admin' && !isAdmin())) { location.replace(homeRoute()); return; }
  document.body.classList.toggle('print-page', route.print);
  renderNav(route);
  const main = document.getElementById('main');
  main.setAttribute('aria-busy', 'true');
  let node;
  try {
    const mod = await import(`./views/${route.module}.js`);
    node = await mod.render(route.params, ctx);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'unauthorized') return;
    node = el('div', {}, el('h1', { tabindex: '-1', class: 'screen-title' }, t('error.title')),
      el('p', { class: 'error-box', role: 'alert' }, icon('warning'), el('span', {}, errorText(e))),
      el('p', {}, el('a', { class: 'btn btn-secondary', href: homeRoute() }, icon('back'), el('span', {}, t('common.back_home')))));
    if (!(e instanceof ApiError)) console.error(e);
  }
  if (seq !== state.renderSeq) return;  // a newer navigation won
  main.replaceChildren(node);
  main.setAttribute('aria-busy', 'false');
  const title = main.querySelector('h1');
  document.title = title ? `${title.textContent} – ${t('app.name')}` : t('app.name');
  if (moveFocus) {
    if (title) title.focus(); else main.focus();
  } else if (keepKey) {
    const again = main.querySelector(`[data-key="${CSS.escape(keepKey)}"]`);
    if (again && !again.disabled) again.focus(); else if (title) title.focus();
  }
}

function renderHeader() {
  const me = state.me;
  const header = document.getElementById('header');
  document.getElementById('skip-link').textContent = t('app.skip');
  const langId = uid('lang');
  const langSelect = el('select', { id: langId, 'data-key': 'lang' },
    el('option', { value: 'sv', lang: 'sv', selected: getLang() === 'sv' }, 'Svenska'),
    el('option', { value: 'en', lang: 'en', selected: getLang() === 'en' }, 'English'));
  langSelect.addEventListener('change', () => changeLanguage(langSelect.value));
  const logout = el('form', { method: 'post', action: '/console/logout', class: 'logout-form' },
    el('input', { type: 'hidden', name: 'csrf', value: me.csrf }),
    button(t('header.sign_out'), { type: 'submit', icon: 'out', key: 'sign-out' }));
  header.replaceChildren(el('div', { class: 'bar' },
    el('p', { class: 'brand' }, icon('home'), el('span', {}, t('app.name'))),
    el('div', { class: 'who-wrap' },
      el('p', { class: 'who' }, icon('user'),
        el('span', {}, t('header.signed_in_as', { user: me.username, role: t(`role.${me.role}`) }))),
      el('div', { class: 'lang-field' }, el('label', { for: langId }, t('header.language')), langSelect),
      logout)));
}

function renderNav(route) {
  const nav = document.getElementById('nav');
  if (route.print) { nav.hidden = true; return; }
  nav.hidden = false;
  nav.setAttribute('aria-label', t('nav.label'));
  const current = `#/${route.name.split('/')[0]}`;
  const section = { course: '#/catalogue', occasion: isAdmin() ? '#/catalogue' : '#/occasions', person: '#/people' }[route.name.split('/')[0]] || current;
  nav.replaceChildren(el('ul', { class: 'nav-list' }, navItems(state.me.role).map(([href, words, ic]) => el('li', {},
    el('a', { class: 'nav-link', href, 'aria-current': href === section ? 'page' : null }, icon(ic), el('span', {}, words))))));
}

async function changeLanguage(lang) {
  setLang(lang);
  try { await api.post('/language', { lang }); state.me.lang = lang; } catch (e) { /* the choice holds for this page */ }
  renderHeader();
  await render(false, null);
  const again = document.querySelector('[data-key="lang"]');
  if (again) again.focus();
  announce(t('header.language_changed'));
}

// ---- session expiry: idle_ms after the last API call, never past the session's hard end ----

// expires_ms = min(last use + idle, start + 12 h): when it is sooner than the idle end, it is
// the session's hard end.
function learnHardEnd(me) {
  if (me.expires_ms && me.expires_ms < Date.now() + me.idle_ms - 60000) state.hardDeadline = me.expires_ms;
}

// The idle period: the server's; a browser test may shorten it for this tab only
// (sessionStorage 'tundra.console.idle_ms', docs/console.md), the server's own expiry holds.
function idleMs() {
  let shorter = 0;
  try { shorter = Number(sessionStorage.getItem('tundra.console.idle_ms')) || 0; } catch (e) { /* no storage */ }
  return shorter > 0 ? Math.min(shorter, state.me.idle_ms) : state.me.idle_ms;
}

function noteActivity() {
  const now = Date.now();
  state.deadline = Math.min(now + idleMs(), state.hardDeadline || Infinity);
  if (state.warning) closeWarning();
  scheduleWarning();
}

function scheduleWarning() {
  clearTimeout(state.warnTimer);
  const wait = Math.max(0, state.deadline - Date.now() - WARN_BEFORE_MS);
  state.warnTimer = setTimeout(showWarning, wait);
}

function showWarning() {
  const left = state.deadline - Date.now();
  if (left <= 0) { expire(); return; }
  if (state.warning) return;
  const titleId = uid('dlg');
  const textId = uid('dlg');
  const stay = button(t('session.stay'), { kind: 'primary', icon: 'clock', onclick: async () => {
    try { learnHardEnd(await api.get('/me')); } catch (e) { /* 401 goes to sign-in */ }
  } });
  const leave = el('form', { method: 'post', action: '/console/logout' },
    el('input', { type: 'hidden', name: 'csrf', value: state.me.csrf }),
    button(t('header.sign_out'), { type: 'submit', icon: 'out' }));
  const minutes = Math.max(1, Math.round(left / 60000));
  const dialog = el('div', { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'aria-describedby': textId },
    el('h2', { id: titleId }, t('session.warning_title')),
    el('p', { id: textId }, t('session.warning_text', { minutes })),
    el('div', { class: 'actions' }, stay, leave));
  const overlay = el('div', { class: 'overlay', 'data-role': 'session-warning' }, dialog);
  state.warning = { overlay, before: document.activeElement };
  document.getElementById('dialog-root').appendChild(overlay);
  setPageInert(true);
  stay.focus();
  state.warnTimer = setTimeout(expire, left);
}

function closeWarning() {
  const w = state.warning;
  state.warning = null;
  w.overlay.remove();
  setPageInert(false);
  if (w.before && w.before.isConnected) w.before.focus();
}

function expire() { location.assign(`/console/login?e=expired&lang=${getLang()}`); }

async function start() {
  await loadCatalogues();
  try {
    state.me = await api.get('/me');
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'unauthorized')) toLogin();
    return;
  }
  setCsrf(state.me.csrf);
  setLang(state.me.lang);
  learnHardEnd(state.me);
  setActivityHandler(noteActivity);
  noteActivity();
  renderHeader();
  window.addEventListener('hashchange', () => render(true));
  if (!matchRoute(location.hash)) location.replace(homeRoute());
  else render(true);
}

start();
