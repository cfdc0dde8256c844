// Choose a PIN (twice; 4–6 digits). Later unlocks on this tablet use it, also offline.
import { t } from '../i18n.js';
import { el, h1, button, errorBox, field, busy } from '../ui.js';

export async function render(params, ctx) {
  const err = errorBox();
  const opts = { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', maxlength: 6, pattern: '[0-9]*', required: true };
  const a = field(t('setpin.first'), Object.assign({ hint: t('setpin.hint') }, opts));
  const b = field(t('setpin.second'), opts);
  const submitBtn = button(t('setpin.submit'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!/^[0-9]{4,6}$/.test(a.input.value)) { err.show(t('setpin.bad_format')); a.input.focus(); return; }
    if (a.input.value !== b.input.value) { err.show(t('setpin.mismatch')); b.input.value = ''; b.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/pin', { pin: a.input.value });
        ctx.announce(t('setpin.done'));
        await ctx.signedIn();
      } catch (ex) {
        err.show(ex.code === 'invalid_argument' ? t('setpin.bad_format') : ex);
        a.input.focus();
      }
    });
  }
  return el('div', { class: 'screen screen-setpin' },
    h1(t('setpin.title')),
    el('p', { class: 'lead' }, t('setpin.intro')),
    el('form', { onsubmit: submit, novalidate: true }, a.wrap, b.wrap, err.node, el('div', { class: 'actions' }, submitBtn)));
}
