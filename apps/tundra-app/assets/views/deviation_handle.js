// Coordinator: mark a deviation handled, saying what was done.
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';
import { ApiError } from '../api.js';

export async function render(params, ctx) {
  const { deviations } = await ctx.api.get('/api/deviations?status=');
  const d = deviations.find((x) => x.id === params.id);
  if (!d) throw new ApiError(404, 'not_found', {});
  const err = errorBox();
  const action = field(t('deviation.action_taken'), { tag: 'textarea', required: true, hint: t('deviation.action_hint'), maxlength: 5000, value: d.action_taken || '' });
  const submitBtn = button(t('deviation.handle_save'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!action.input.value.trim()) { err.show(t('deviation.action_empty')); action.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/deviation/handle', { id: d.id, action_taken: action.input.value.trim() });
        ctx.announce(t('deviation.handled'));
        await ctx.refreshStatus();
        ctx.navigate('#/deviations');
      } catch (ex) { err.show(ex); }
    });
  }
  return el('div', { class: 'screen screen-deviation-handle' },
    h1(t('deviation.handle_title')),
    el('section', { class: 'card', 'aria-labelledby': 'dev-cat' },
      el('h2', { id: 'dev-cat', class: 'card-title' }, t(`category.${d.category}`)),
      el('p', { class: 'prewrap' }, d.description)),
    el('form', { onsubmit: submit, novalidate: true }, action.wrap, err.node,
      el('div', { class: 'actions' }, submitBtn, linkButton(t('deviation.back'), '#/deviations', { icon: 'back' }))));
}
