// Change my password (needs the server).
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';

export async function render(params, ctx) {
  const err = errorBox();
  const cur = field(t('pwchange.current'), { type: 'password', autocomplete: 'current-password', required: true });
  const next = field(t('pwchange.next'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('pwchange.hint') });
  const again = field(t('pwchange.again'), { type: 'password', autocomplete: 'new-password', required: true });
  const submitBtn = button(t('pwchange.submit'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!cur.input.value) { err.show(t('pwchange.current_empty')); cur.input.focus(); return; }
    if (next.input.value.length < 8) { err.show(t('pwchange.too_short')); next.input.focus(); return; }
    if (next.input.value !== again.input.value) { err.show(t('pwchange.mismatch')); again.input.value = ''; again.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/password', { current: cur.input.value, next: next.input.value });
        ctx.announce(t('pwchange.saved'));
        ctx.navigate('#/settings');
      } catch (ex) {
        err.show(ex.code === 'unauthorized' ? t('pwchange.wrong') : ex);
        cur.input.focus();
      }
    });
  }
  return el('div', { class: 'screen screen-pwchange' },
    h1(t('pwchange.title')),
    el('p', { class: 'lead' }, t('pwchange.intro')),
    el('form', { onsubmit: submit, novalidate: true }, cur.wrap, next.wrap, again.wrap, err.node,
      el('div', { class: 'actions' }, submitBtn, linkButton(t('settings.back'), '#/settings', { icon: 'back' }))));
}
