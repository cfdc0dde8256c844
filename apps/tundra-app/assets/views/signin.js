// First sign-in on this tablet: username and password (needs the server).
import { t, getLang } from '../i18n.js';
import { icon } from '../icons.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';

export async function render(params, ctx) {
  const { people } = await ctx.api.get('/api/people');
  const other = getLang() === 'sv' ? 'en' : 'sv';
  const err = errorBox();
  const user = field(t('signin.username'), { autocomplete: 'username', required: true, spellcheck: 'false' });
  user.input.setAttribute('autocapitalize', 'none');
  if (params.username) user.input.value = params.username;  // signing the same person in again
  const pw = field(t('signin.password'), { type: 'password', autocomplete: 'current-password', required: true });
  const submitBtn = button(t('signin.submit'), { icon: 'user', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!user.input.value.trim()) { err.show(t('signin.username_empty')); user.input.focus(); return; }
    if (!pw.input.value) { err.show(t('signin.password_empty')); pw.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        const res = await ctx.api.post('/api/signin', { username: user.input.value.trim(), password: pw.input.value });
        if (res.needs_pin === false) await ctx.signedIn();
        else ctx.navigate('#/set-pin');
      } catch (ex) {
        pw.input.value = '';
        err.show(ex.code === 'unauthorized' ? t('signin.wrong') : ex);
        (ex.code === 'unauthorized' ? user.input : pw.input).focus();
      }
    });
  }
  return el('div', { class: 'screen screen-signin' },
    h1(t('signin.title')),
    el('p', { class: 'lead' }, t('signin.intro')),
    el('form', { onsubmit: submit, novalidate: true }, user.wrap, pw.wrap, err.node, el('div', { class: 'actions' }, submitBtn)),
    el('div', { class: 'actions' },
      // With nobody on the tablet yet this is the first screen: it has the language button.
      people.length ? linkButton(t('common.back_people'), '#/people', { icon: 'back' })
        : el('button', { type: 'button', class: 'btn btn-secondary', lang: other, onclick: () => ctx.setLanguage(other) },
          icon('globe'), el('span', { class: 'btn-text' }, other === 'en' ? t('people.switch_to_en') : t('people.switch_to_sv')))));
}
