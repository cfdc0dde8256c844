// The tablet app: hash router, status bar (sync, pending, rejected, changed), polling and the
// idle lock. Views live in views/*.js; each exports render(params, ctx) returning a node that
// starts with the screen's one h1.
import { api, setLockedHandler, setActivityHandler, ApiError } from './api.js';
import { loadCatalogues, t, setLang, getLang, reasonText, errorText, fmtTime, fmtDate, has } from './i18n.js';
import { el, button, badge } from './ui.js';
import { icon } from './icons.js';

const POLL_MS = 3000;
const POLL_SYNC_MS = 1000;
const IDLE_LOCK_MS = 5 * 60 * 1000;  // unless the server says otherwise (status.idle_lock_ms)
const WARN_BEFORE_MS = 60 * 1000;
const KEEPALIVE_EVERY_MS = 60 * 1000;

// Routes: pattern → [module, needs session, refresh on revision change].
const ROUTES = [
  ['people', 'people', false, false],
  ['pin/:person', 'pin', false, false],
  ['password/:person', 'password', false, false],
  ['signin', 'signin', false, false],
  ['signin/:username', 'signin', false, false],
  ['set-pin', 'setpin', true, false],
  ['home', 'home', true, true],
  ['catalogue', 'catalogue', true, true],
  ['enrolments', 'enrolments', true, true],
  ['attendance', 'attendance', true, true],
  ['survey/:occasion', 'survey', true, false],
  ['attest/:month', 'attest', true, false],
  ['today', 'today', true, true],
  ['roster/:occasion', 'roster', true, true],
  ['walk-in/:occasion', 'walkin', true, false],
  ['walk-in/:occasion/new', 'walkin_new', true, false],
  ['enrol-staff/:occasion', 'enrolstaff', true, true],
  ['deviations', 'deviations', true, true],
  ['deviations/new', 'deviation_new', true, false],
  ['deviations/:id/handle', 'deviation_handle', true, false],
  ['settings', 'settings', true, false],
  ['password-change', 'password_change', true, false],
  ['signout', 'signout', true, false],
];

const state = {
  status: null,        // GET /api/status while a session is unlocked; null when locked
  revision: null,
  route: null,         // {name, params, refresh}
  syncWasRunning: false,
  lastInput: Date.now(),
  lastServerActivity: Date.now(),
  dialog: null,
  pollTimer: null,
  renderSeq: 0,
};

function matchRoute(hash) {
  const [path, query] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const [pattern, module, needsSession, refresh] of ROUTES) {
    const pp = pattern.split('/');
    if (pp.length !== parts.length) continue;
    const params = { query: new URLSearchParams(query || '') };
    let ok = true;
    pp.forEach((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = parts[i];
      else if (p !== parts[i]) ok = false;
    });
    if (ok) return { name: pattern, module, needsSession, refresh, params };
  }
  return null;
}

export function homeRoute() {
  if (!state.status) return '#/people';
  return state.status.user.role === 'coordinator' ? '#/today' : '#/home';
}

export function navigate(hash) {
  if (location.hash === hash) render(true);
  else location.hash = hash;
}

// Announces a sentence to screen readers (the live region).
export function announce(text) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

const ctx = {
  api,
  navigate,
  announce,
  homeRoute,
  status: () => state.status,
  // After an action: the header shows the new pending count; the view renders itself.
  async refreshStatus() { await pollStatus(false, false); },
  // After an unlock or a new PIN: fetch the session's status, then go to the person's start.
  async signedIn() {
    state.status = await api.get('/api/status');
    if (state.status.language) setLang(state.status.language);
    state.lastInput = Date.now();
    schedulePoll();
    navigate(homeRoute());
  },
  locked: () => onLocked(),
  // Re-renders the current screen after an action, keeping focus on the control named key.
  rerender: (key) => render(false, key),
  async setLanguage(lang) {
    setLang(lang);
    if (state.status) {
      // The person's choice, remembered by the server for this person.
      await api.post('/api/language', { language: lang });
      state.status.language = lang;
    } else {
      // Before anyone unlocks: the tablet's own language (the people and sign-in screens).
      try { localStorage.setItem('tundra.lang', lang); } catch (e) { /* private mode */ }
    }
    renderChrome();
    await render(true);
  },
};

// `background`: a refresh because the replica changed, not something the person did; it is
// dropped (and tried again at the next poll) if meanwhile they started typing or answering a
// question on the screen it would replace.
async function render(moveFocus, keepKey, background = false) {
  const seq = ++state.renderSeq;
  let route = matchRoute(location.hash);
  if (!route) { location.replace(homeRoute()); return; }
  if (route.needsSession && !state.status && route.module !== 'setpin') { location.replace('#/people'); return; }
  if (!route.needsSession && state.status) { location.replace(homeRoute()); return; }
  state.route = route;
  renderChrome();
  const main = document.getElementById('main');
  // Keep the focused control across a refresh (data-key names it).
  const active = document.activeElement;
  const focusKey = keepKey || (!moveFocus && active && main.contains(active) ? active.getAttribute('data-key') : null);
  let node;
  try {
    const mod = await import(`./views/${route.module}.js`);
    node = await mod.render(route.params, ctx);
  } catch (e) {
    if (e instanceof ApiError && (e.code === 'locked' || e.code === 'revoked')) return;
    node = el('div', {}, el('h1', { tabindex: '-1', class: 'screen-title' }, t('error.title')),
      el('p', { class: 'error-box', role: 'alert' }, icon('warning'), el('span', {}, errorText(e))),
      el('p', {}, el('a', { class: 'btn btn-secondary', href: homeRoute() }, icon('back'), el('span', {}, t('common.back_home')))));
    if (!(e instanceof ApiError)) console.error(e);
  }
  if (seq !== state.renderSeq) return;  // a newer navigation won
  // The fetch took a while: a tap in it may have opened a question ("cancel?") on the screen.
  if (background && (state.dialog || busyOnScreen())) return;
  state.viewStale = false;
  main.replaceChildren(node);
  const title = main.querySelector('h1');
  document.title = title ? `${title.textContent} – ${t('app.name')}` : t('app.name');
  if (moveFocus) {
    if (title) title.focus(); else main.focus();
  } else if (focusKey) {
    const again = main.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again && !again.disabled) again.focus();
    else if (keepKey && title) title.focus();
  }
}

// ---- header: status bar, notices; nav ----

// Re-renders header and nav without losing the focus of a control in them.
let chromeShown = '';
function renderChrome() {
  const header = document.getElementById('header');
  const nav = document.getElementById('nav');
  // Only when something it shows changed: a control rebuilt under a finger loses the tap.
  const s = state.status;
  const shown = JSON.stringify([getLang(), state.route && state.route.name, navigator.onLine, s && [s.user, s.pending,
    s.last_sync, s.sync, s.rejected, s.changed, s.last_sync && lastSyncText(s.last_sync)]]);
  if (shown === chromeShown && header.firstChild) return;
  chromeShown = shown;
  const active = document.activeElement;
  const inChrome = active && (header.contains(active) || nav.contains(active));
  const key = inChrome && active.getAttribute('data-key');
  const text = inChrome && active.textContent;
  document.getElementById('skip-link').textContent = t('app.skip');
  renderHeader();
  renderNav();
  if (inChrome && !active.isConnected) {
    // The same control after the re-render: "Sync now" and "Cancel" take each other's place.
    const same = (key && header.querySelector(`[data-key="${key}"]`))
      || [...header.querySelectorAll('button'), ...nav.querySelectorAll('a')].find((b) => b.textContent === text);
    if (same) same.focus(); else focusAfterHeaderChange();
  }
}

function renderNav() {
  const nav = document.getElementById('nav');
  const s = state.status;
  if (!s || !state.route || !state.route.needsSession || state.route.module === 'setpin') {
    nav.hidden = true; nav.replaceChildren(); return;
  }
  nav.hidden = false;
  nav.setAttribute('aria-label', t('nav.label'));
  const items = s.user.role === 'coordinator'
    ? [['#/today', t('nav.today'), 'calendar'], ['#/deviations', t('nav.deviations'), 'warning'], ['#/settings', t('nav.settings'), 'settings']]
    : [['#/home', t('nav.home'), 'home'], ['#/catalogue', t('nav.catalogue'), 'search'], ['#/enrolments', t('nav.enrolments'), 'list'],
       ['#/attendance', t('nav.attendance'), 'check'], ['#/settings', t('nav.settings'), 'settings']];
  const current = `#/${state.route.name.split('/')[0]}`;
  const ul = el('ul', { class: 'nav-list' });
  for (const [href, label, ic] of items) {
    ul.appendChild(el('li', {}, el('a', { href, class: 'nav-link', 'aria-current': href === current ? 'page' : null },
      icon(ic), el('span', {}, label))));
  }
  nav.replaceChildren(ul);
}

function renderHeader() {
  const header = document.getElementById('header');
  const s = state.status;
  const brand = el('p', { class: 'brand' }, t('app.name'));
  if (!s || !state.route || !state.route.needsSession) { header.replaceChildren(el('div', { class: 'bar' }, brand)); return; }
  const who = el('p', { class: 'who' }, icon('user'), el('span', {}, s.user.name));
  // Switching person takes two taps from any screen: this, then the other person's name.
  const sw = button(t('settings.switch_person'), { icon: 'people', key: 'switch-person', onclick: switchPerson });
  const bar = el('div', { class: 'bar' }, brand, el('div', { class: 'who-wrap' }, who, sw));
  header.replaceChildren(bar, syncPanel(s), notices(s));
}

function online(s) {
  if (!navigator.onLine) return false;
  return !(s.sync && (s.sync.last_error === 'network' || s.sync.last_error === 'timeout'));
}

function syncPanel(s) {
  const sync = s.sync || {};
  const facts = el('ul', { class: 'sync-facts' });
  facts.appendChild(el('li', {}, icon('clock'),
    el('span', {}, s.pending > 0 ? t('status.pending', { count: s.pending }) : t('status.nothing_pending'))));
  facts.appendChild(el('li', {}, icon('sync'),
    el('span', {}, s.last_sync ? t('status.last_sync', { time: lastSyncText(s.last_sync) }) : t('status.never_synced'))));
  const on = online(s);
  facts.appendChild(el('li', {}, icon(on ? 'online' : 'offline'), el('span', {}, on ? t('status.online') : t('status.offline'))));
  if (sync.last_error && !['network', 'timeout', 'cancelled'].includes(sync.last_error) && !sync.running) {
    facts.appendChild(el('li', { class: 'warn' }, icon('warning'),
      el('span', {}, t('status.sync_failed', { reason: errorText({ code: sync.last_error }) }))));
  }
  const panel = el('section', { class: 'sync-panel', 'aria-label': t('status.label') }, facts);
  if (sync.running) {
    const pct = typeof sync.fraction === 'number' ? Math.round(sync.fraction * 100) : null;
    const labelId = 'sync-progress-label';
    const progress = el('progress', { max: '100', 'aria-labelledby': labelId });
    if (pct !== null) progress.value = pct;
    const label = el('p', { id: labelId, class: 'progress-label' },
      pct !== null ? t('status.syncing_pct', { percent: pct }) : t('status.syncing'));
    const eta = Math.ceil(sync.eta_seconds || 0);
    const extra = eta <= 0 ? null : el('p', { class: 'hint' },
      eta > 90 ? t('status.eta_minutes', { minutes: Math.round(eta / 60) }) : t('status.eta', { seconds: eta }));
    panel.appendChild(el('div', { class: 'progress-wrap' }, label, progress, extra,
      button(t('status.cancel_sync'), { icon: 'cross', onclick: cancelSync, key: 'sync-button' })));
  } else {
    panel.appendChild(button(t('status.sync_now'), { icon: 'sync', kind: 'primary', onclick: syncNow, key: 'sync-button' }));
  }
  return panel;
}

function lastSyncText(iso) {
  // Today: "08:14"; another day: "måndag 30 november 08:14".
  const d = new Date(iso);
  const sameDay = fmtDate(iso) === fmtDate(new Date().toISOString());
  return sameDay ? fmtTime(iso) : `${fmtDate(d.toISOString())} ${fmtTime(iso)}`;
}

function notices(s) {
  const wrap = el('div', { class: 'notices' });
  if (s.rejected && s.rejected.length) {
    const list = el('ul', { class: 'notice-list' });
    for (const r of s.rejected) {
      const textId = `rejected-${r.seq}`;
      const action = has(`action.${r.type}`) ? t(`action.${r.type}`) : t('action.unknown');
      list.appendChild(el('li', { class: 'notice notice-warn' },
        el('p', { id: textId }, icon('warning'),
          el('strong', {}, t('rejected.item', { action, title: r.course_title || '' })), ' ', reasonText(r.reason)),
        button(t('rejected.dismiss'), { icon: 'cross', describedby: textId, key: `dismiss-${r.seq}`, onclick: (e) => dismiss(e.currentTarget, r.seq) })));
    }
    wrap.appendChild(el('section', { class: 'notice-group', 'aria-labelledby': 'rejected-title' },
      el('h2', { id: 'rejected-title', class: 'notice-title' }, t('rejected.title')), list));
  }
  if (s.changed && s.changed.length) {
    const list = el('ul', { class: 'notice-list' });
    for (const c of s.changed) list.appendChild(el('li', { class: 'notice notice-info' }, el('p', {}, icon('warning'), changedText(c))));
    wrap.appendChild(el('section', { class: 'notice-group', 'aria-labelledby': 'changed-title' },
      el('h2', { id: 'changed-title', class: 'notice-title' }, t('changed.title')), list,
      button(t('changed.seen'), { icon: 'check', key: 'changed-seen', onclick: (e) => seen(e.currentTarget) })));
  }
  return wrap;
}

function maybeTime(v) {
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return `${fmtDate(v)} ${fmtTime(v)}`;
  return v || '';
}
export function changedText(c) {
  const title = c.course_title || '';
  switch (c.kind) {
    case 'preempted': return t('changed.preempted', { title });
    case 'promoted': return t('changed.promoted', { title });
    case 'cancelled': return t('changed.cancelled', { title });
    case 'moved': return t('changed.moved', { title, before: maybeTime(c.before), after: maybeTime(c.after) });
    default: return t('changed.other', { title });
  }
}

async function switchPerson() {
  try { await api.post('/api/lock', {}); } catch (e) { /* already locked */ }
  onLocked();
  navigate('#/people');
}

async function syncNow() {
  try {
    await api.post('/api/sync', {});
    announce(t('status.sync_started'));
  } catch (e) { announce(errorText(e)); }
  await pollStatus(false);
}
async function cancelSync() {
  try { await api.post('/api/sync/cancel', {}); announce(t('status.sync_cancelled')); } catch (e) { announce(errorText(e)); }
  await pollStatus(false);
}
async function dismiss(btn, seq) {
  btn.disabled = true;
  try { await api.post('/api/dismiss', { seq }); announce(t('rejected.dismissed')); } catch (e) { announce(errorText(e)); }
  await pollStatus(false);
  focusAfterHeaderChange();
}
async function seen(btn) {
  btn.disabled = true;
  try { await api.post('/api/changed/seen', {}); } catch (e) { announce(errorText(e)); }
  await pollStatus(false);
  focusAfterHeaderChange();
}
// The button that had focus is gone: put focus on the screen's heading, not on <body>.
function focusAfterHeaderChange() {
  const h = document.querySelector('#main h1');
  if (h) h.focus();
}

// ---- polling ----

async function pollStatus(background = true, rerenderView = true) {
  if (!state.status) return;
  let s;
  try {
    s = await api.get('/api/status', { background });
  } catch (e) {
    return;  // locked is handled by the API wrapper; other failures: try again next time
  }
  const prev = state.status;
  state.status = s;
  if (s.language && s.language !== getLang()) { setLang(s.language); }
  const running = !!(s.sync && s.sync.running);
  if (state.syncWasRunning && !running) {
    if (s.sync.last_error === 'cancelled') announce(t('status.sync_cancelled'));
    else if (s.sync.last_error) announce(t('status.sync_failed', { reason: errorText({ code: s.sync.last_error }) }));
    else announce(t('status.sync_done'));
  }
  state.syncWasRunning = running;
  renderChrome();
  // The screen shows the replica as it was: refreshed now, or once the person is done with
  // what they are doing on it (a refresh put off is not forgotten when the revision is seen).
  if (prev && s.revision !== prev.revision) state.viewStale = true;
  if (state.viewStale && rerenderView && state.route && state.route.refresh && !state.dialog && !busyOnScreen()) {
    await render(false, null, true);
  }
  schedulePoll();
}

// Typing in a field, or answering a question (e.g. "cancel?", marked data-hold): a refresh
// would take it away from under their finger.
function busyOnScreen() {
  const active = document.activeElement;
  const typing = active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA' || active.tagName === 'SELECT');
  return typing || !!document.querySelector('#main [data-hold]');
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  if (!state.status) return;
  const running = state.status.sync && state.status.sync.running;
  state.pollTimer = setTimeout(() => pollStatus(true), running ? POLL_SYNC_MS : POLL_MS);
}

// ---- lock and idle ----

function savedLang() {
  try { return localStorage.getItem('tundra.lang') || 'sv'; } catch (e) { return 'sv'; }
}

function onLocked(code) {
  const wasOpen = !!state.status;
  state.status = null;
  if (code === 'revoked' && wasOpen) announce(t('error.revoked'));
  setLang(savedLang());  // the people screen speaks the tablet's language, not the last person's
  clearTimeout(state.pollTimer);
  closeIdleDialog();
  if (state.route && state.route.needsSession) navigate('#/people');
}

function onInput() {
  if (state.dialog) return;  // only "Continue" extends the session
  state.lastInput = Date.now();
  const lockMs = state.status && state.status.idle_lock_ms > 0 ? state.status.idle_lock_ms : IDLE_LOCK_MS;
  if (state.status && Date.now() - state.lastServerActivity > Math.min(KEEPALIVE_EVERY_MS, lockMs / 4)) {
    api.post('/api/keepalive', {}).catch(() => {});
  }
}

function idleTick() {
  if (!state.status) return;
  const idle = Date.now() - state.lastInput;
  const lockMs = state.status.idle_lock_ms > 0 ? state.status.idle_lock_ms : IDLE_LOCK_MS;
  // Warn a minute before (or at 80% when the lock is shorter than five minutes).
  const warnMs = lockMs >= 5 * WARN_BEFORE_MS ? lockMs - WARN_BEFORE_MS : Math.round(lockMs * 0.8);
  if (idle >= lockMs) { lockNow(); return; }
  if (idle >= warnMs && !state.dialog) showIdleDialog();
}

async function lockNow() {
  closeIdleDialog();
  try { await api.post('/api/lock', {}); } catch (e) { /* already locked */ }
  onLocked();
  announce(t('idle.locked'));
}

function showIdleDialog() {
  const root = document.getElementById('dialog-root');
  const cont = button(t('idle.continue'), { icon: 'check', kind: 'primary', big: true, onclick: async () => {
    closeIdleDialog();
    state.lastInput = Date.now();
    try { await api.post('/api/keepalive', {}); } catch (e) { /* locked: handled */ }
  } });
  const lock = button(t('idle.lock_now'), { icon: 'lock', onclick: lockNow });
  const dialog = el('div', { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true',
    'aria-labelledby': 'idle-title', 'aria-describedby': 'idle-text' },
    el('h2', { id: 'idle-title' }, t('idle.title')),
    el('p', { id: 'idle-text' }, t('idle.text')),
    el('div', { class: 'actions' }, cont, lock));
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const f = [cont, lock];
    const i = f.indexOf(document.activeElement);
    e.preventDefault();
    f[(i + (e.shiftKey ? f.length - 1 : 1)) % f.length].focus();
  });
  const overlay = el('div', { class: 'overlay' }, dialog);
  root.replaceChildren(overlay);
  for (const id of ['header', 'nav', 'main']) document.getElementById(id).setAttribute('inert', '');
  state.dialog = { previous: document.activeElement };
  cont.focus();
}

function closeIdleDialog() {
  if (!state.dialog) return;
  const prev = state.dialog.previous;
  state.dialog = null;
  document.getElementById('dialog-root').replaceChildren();
  for (const id of ['header', 'nav', 'main']) document.getElementById(id).removeAttribute('inert');
  if (prev && prev.isConnected) prev.focus();
}

// ---- start ----

async function start() {
  await loadCatalogues();
  setLang(savedLang());
  setLockedHandler(onLocked);
  setActivityHandler(() => { state.lastServerActivity = Date.now(); });
  try {
    state.status = await api.get('/api/status', { background: true });
    if (state.status.language) setLang(state.status.language);
    state.syncWasRunning = !!(state.status.sync && state.status.sync.running);
  } catch (e) {
    state.status = null;
  }
  for (const ev of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart']) {
    document.addEventListener(ev, onInput, { passive: true, capture: true });
  }
  window.addEventListener('online', () => renderChrome());
  window.addEventListener('offline', () => renderChrome());
  window.addEventListener('hashchange', () => render(true));
  setInterval(idleTick, 1000);
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.replace(homeRoute());
  await render(false);
  schedulePoll();
}

start();
