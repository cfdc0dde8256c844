// Coordinator: the deviation log (open / handled), with "log new" and "handle".
import { t } from '../i18n.js';
import { el, h1, linkButton, badge, pendingBadge } from '../ui.js';

export async function render(params, ctx) {
  const which = params.query.get('status') === 'handled' ? 'handled' : 'open';
  const { deviations } = await ctx.api.get(`/api/deviations?status=${which}`);
  const tabs = el('ul', { class: 'tabs' },
    ...['open', 'handled'].map((st) => el('li', {}, el('a', { class: 'tab', href: st === 'open' ? '#/deviations' : '#/deviations?status=handled',
      'aria-current': st === which ? 'page' : null }, (st === 'open' ? t('deviations.show_open') : t('deviations.show_handled'))))));
  const ul = el('ul', { class: 'card-list' });
  for (const d of deviations) {
    const titleId = `dev-${d.id}`;
    ul.appendChild(el('li', { class: 'card' },
      el('h2', { id: titleId, class: 'card-title' }, t(`category.${d.category}`)),
      el('p', { class: 'prewrap' }, d.description),
      el('div', { class: 'state-line' },
        badge(t(`deviation_status.${d.status}`), d.status === 'open' ? 'warn' : 'ok', d.status === 'open' ? 'warning' : 'check'),
        d.pending ? pendingBadge() : null),
      d.action_taken ? el('p', {}, el('strong', {}, t('deviations.action_taken')), ' ', d.action_taken) : null,
      d.status === 'open' ? linkButton(t('deviations.handle'), `#/deviations/${encodeURIComponent(d.id)}/handle`, { icon: 'pen', key: `handle-${d.id}` }) : null));
  }
  return el('div', { class: 'screen screen-deviations' },
    h1(t('deviations.title')),
    el('div', { class: 'actions' }, linkButton(t('deviations.new'), '#/deviations/new', { icon: 'plus', kind: 'primary', big: true })),
    el('nav', { 'aria-label': t('deviations.filter_label') }, tabs),
    deviations.length ? ul : el('p', { class: 'lead' }, (which === 'open' ? t('deviations.none_open') : t('deviations.none_handled'))));
}
