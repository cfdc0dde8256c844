// Unlock with the password (after too many wrong PINs, or when there is no PIN yet).
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';
import { ApiError } from '../api.js';

export async function render(params, ctx) {
  const { people } = await ctx.api.get('/api/people');
  const person = people.find((p) => p.id === params.person);
  if (!person) throw new ApiError(404, 'not_found', {});
  const err = errorBox();
  const pw = field(t('password.label'), { type: 'password', autocomplete: 'current-password', required: true });
  const submitBtn = button(t('password.unlock'), { icon: 'lock', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!pw.input.value) { err.show(t('password.empty')); pw.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        const res = await ctx.api.post('/api/unlock-password', { person: person.id, password: pw.input.value });
        if (res.needs_pin || (res.needs_pin === undefined && !person.has_pin)) { ctx.navigate('#/set-pin'); return; }
        await ctx.signedIn();
      } catch (ex) {
        pw.input.value = '';
        err.show(ex.code === 'unauthorized' ? t('password.wrong') : ex);
        pw.input.focus();
      }
    });
  }
  return el('div', { class: 'screen screen-password' },
    h1(t('password.title', { name: person.name })),
    el('p', { class: 'lead' }, person.needs_password ? t('password.intro_needed') : t('password.intro')),
    el('form', { onsubmit: submit, novalidate: true }, pw.wrap, err.node, el('div', { class: 'actions' }, submitBtn)),
    el('div', { class: 'actions' }, linkButton(t('common.back_people'), '#/people', { icon: 'back' })));
}
