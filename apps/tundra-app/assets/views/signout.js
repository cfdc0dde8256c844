// Sign out from this tablet: removes this person's data here. Refused while changes wait.
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, busy } from '../ui.js';

export async function render(params, ctx) {
  const s = ctx.status();
  const err = errorBox();
  const go = button(t('signout.confirm'), { icon: 'out', kind: 'danger', big: true });
  go.addEventListener('click', () => busy(go, async () => {
    err.clear();
    try {
      await ctx.api.post('/api/signout', { export: false });
      ctx.locked();
      ctx.announce(t('signout.done'));
      ctx.navigate('#/people');
    } catch (ex) {
      err.show(ex.code === 'conflict' ? t('signout.pending', { count: ex.extra.pending || s.pending }) : ex);
    }
  }));
  return el('div', { class: 'screen screen-signout' },
    h1(t('signout.title')),
    el('p', { class: 'lead' }, t('signout.intro')),
    s.pending > 0 ? el('p', { class: 'warn-text' }, t('signout.pending', { count: s.pending })) : null,
    err.node,
    el('div', { class: 'actions' }, go, linkButton(t('settings.back'), '#/settings', { icon: 'back' })));
}
