// The sign-in page (login.html, served with the CSRF token and the language filled in). Puts
// the page's words in its language and says why the last attempt failed: the server answers a
// failed sign-in with this page and a status (docs/console.md "Signing in").
import { loadCatalogues, setLang, t, getLang } from './i18n.js';

// The HTTP status this page came with (401 wrong credentials, 403 expired form or no console
// access, 429 throttled, 503 overloaded); 200 for a plain visit.
function pageStatus() {
  const nav = performance.getEntriesByType('navigation')[0];
  return nav && typeof nav.responseStatus === 'number' ? nav.responseStatus : 200;
}

const MESSAGES = {
  401: 'login.error_credentials',
  403: 'login.error_forbidden',
  429: 'login.error_throttled',
  503: 'login.error_overloaded',
};

async function start() {
  const htmlLang = document.documentElement.getAttribute('lang');
  setLang(htmlLang === 'en' ? 'en' : 'sv');
  await loadCatalogues();
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.getAttribute('data-i18n'));
  }
  document.title = `${t('login.title')} – ${t('app.name')}`;
  const select = document.getElementById('lang-select');
  select.value = getLang();
  const hidden = document.getElementById('lang-hidden');
  if (hidden.value !== 'en' && hidden.value !== 'sv') hidden.value = getLang();
  const status = pageStatus();
  const params = new URLSearchParams(location.search);
  let key = MESSAGES[status] || null;
  if (!key && params.get('expired') === '1') key = 'login.error_expired';
  if (key) {
    const box = document.getElementById('login-error');
    box.textContent = t(key);
    box.hidden = false;
    document.getElementById('password').setAttribute('aria-describedby', 'login-error');
  }
  const user = document.getElementById('username');
  if (!user.value) user.focus();
}

start();
