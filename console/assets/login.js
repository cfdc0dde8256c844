// The sign-in page (login.html, served with the CSRF token and the language filled in). Puts
// the page's words in its language and says why the last attempt failed: the server answers a
// failed sign-in with this page and a status (docs/console.md "Signing in").
import { loadCatalogues, setLang, t, getLang, translateDocument } from './i18n.js';

// The HTTP status this page came with (401 wrong credentials, 403 expired form or no console
// access, 429 throttled, 503 overloaded); 200 for a plain visit.
function pageStatus() {
  const nav = performance.getEntriesByType('navigation')[0];
  return nav && typeof nav.responseStatus === 'number' ? nav.responseStatus : 200;
}

function message(status, expired) {
  if (status === 401) return t('login.error_credentials');
  if (status === 403) return t('login.error_forbidden');
  if (status === 429) return t('login.error_throttled');
  if (status === 503) return t('login.error_overloaded');
  if (status >= 400) return t('login.error_other');
  return expired ? t('login.error_expired') : null;
}

async function start() {
  const htmlLang = document.documentElement.getAttribute('lang');
  setLang(htmlLang === 'en' ? 'en' : 'sv');
  await loadCatalogues();
  translateDocument();
  document.title = `${t('login.title')} – ${t('app.name')}`;
  const select = document.getElementById('lang-select');
  select.value = getLang();
  const hidden = document.getElementById('lang-hidden');
  if (hidden.value !== 'en' && hidden.value !== 'sv') hidden.value = getLang();
  const status = pageStatus();
  const params = new URLSearchParams(location.search);
  const text = message(status, params.get('expired') === '1');
  if (text) {
    const box = document.getElementById('login-error');
    box.textContent = text;
    box.hidden = false;
    document.getElementById('password').setAttribute('aria-describedby', 'login-error');
  }
  const user = document.getElementById('username');
  if (!user.value) user.focus();
}

start();
