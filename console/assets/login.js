// The sign-in page (login.html, served with the CSRF token, the language and the reason of a
// failed attempt filled in). Puts the page's words in its language and says why the last
// attempt failed (docs/console.md "Signing in").
import { loadCatalogues, setLang, t, getLang, translateDocument } from './i18n.js';

// Why the last attempt failed: the server fills in data-error (failed | throttled | expired |
// forbidden | overloaded | invalid | signed_out | unavailable, or empty) and data-wait
// (seconds to wait when throttled).
function placeholder(v) { return !v || v.startsWith('{{') ? '' : v; }

function message(code, wait) {
  switch (code) {
    case 'failed': return t('login.error_credentials');
    case 'throttled': return wait ? t('login.error_throttled_wait', { seconds: wait }) : t('login.error_throttled');
    case 'expired': return t('login.error_expired');
    case 'forbidden': return t('login.error_forbidden');
    case 'overloaded': return t('login.error_overloaded');
    case 'signed_out': return t('login.signed_out');
    case 'invalid': case 'unavailable': return t('login.error_other');
    default: return null;
  }
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
  const root = document.documentElement;
  const code = placeholder(root.getAttribute('data-error'));
  const wait = Number(placeholder(root.getAttribute('data-wait'))) || 0;
  const text = message(code, wait);
  if (text) {
    const box = document.getElementById('login-error');
    box.textContent = text;
    box.hidden = false;
    // signed_out is news, not an error: a status, not an alert.
    if (code === 'signed_out') { box.setAttribute('role', 'status'); box.className = 'note-box'; }
    else document.getElementById('password').setAttribute('aria-describedby', 'login-error');
  }
  const user = document.getElementById('username');
  if (!user.value) user.focus();
}

start();
