// Participant: my enrolments (status, place in the queue, reason), with cancel.
import { t, fmtSpan } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, busy } from '../ui.js';
import { enrolmentState } from './common.js';

export async function render(params, ctx) {
  const { enrolments } = await ctx.api.get('/api/enrolments');
  const err = errorBox();
  const now = new Date();
  const active = enrolments.filter((e) => e.status !== 'cancelled' && e.status !== 'rejected' && new Date(e.ends_at) >= now);
  const other = enrolments.filter((e) => !active.includes(e));
  const parts = [h1(t('enrolments.title')), err.node];
  if (!enrolments.length) {
    parts.push(el('p', { class: 'lead' }, t('enrolments.empty')),
      linkButton(t('home.find_courses'), '#/catalogue', { icon: 'search', kind: 'primary', big: true }));
  }
  if (active.length) parts.push(section('enr-active', t('enrolments.active'), active, true));
  if (other.length) parts.push(section('enr-other', t('enrolments.other'), other, false));
  return el('div', { class: 'screen screen-enrolments' }, ...parts);

  function section(id, title, rows, canCancel) {
    const ul = el('ul', { class: 'card-list' });
    for (const e of rows) ul.appendChild(item(e, canCancel));
    return el('section', { 'aria-labelledby': id }, el('h2', { id }, title), ul);
  }

  function item(e, canCancel) {
    const titleId = `enr-${e.id}`;
    const li = el('li', { class: 'card' },
      el('h3', { id: titleId }, e.course_title),
      el('p', { class: 'when' }, fmtSpan(e.starts_at, e.ends_at)),
      e.site_name ? el('p', {}, e.site_name) : null,
      ...enrolmentState(e));
    if (!canCancel) return li;
    const actions = el('div', { class: 'actions' });
    const ask = button(t('enrolments.cancel'), { icon: 'cross', key: `cancel-${e.id}`, describedby: titleId });
    ask.addEventListener('click', () => {
      // One more tap to be sure: cancelling can lose a seat.
      const yes = button(t('enrolments.cancel_yes'), { icon: 'check', kind: 'danger', key: `cancel-yes-${e.id}`, describedby: titleId });
      const no = button(t('enrolments.cancel_no'), { icon: 'back', key: `cancel-no-${e.id}`, describedby: titleId });
      const q = el('p', { class: 'confirm-q' }, t('enrolments.cancel_question'));
      no.addEventListener('click', () => { actions.removeAttribute('data-hold'); actions.replaceChildren(ask); ask.focus(); });
      yes.addEventListener('click', () => busy(yes, async () => {
        try {
          await ctx.api.post('/api/cancel', { enrolment: e.id });
          ctx.announce(t('enrolments.cancel_saved', { title: e.course_title }));
          await ctx.refreshStatus();
          ctx.navigate('#/enrolments');
        } catch (ex) { err.show(ex); }
      }));
      actions.setAttribute('data-hold', '');  // a background refresh must not take the question away
      actions.replaceChildren(q, yes, no);
      yes.focus();
    });
    actions.appendChild(ask);
    li.appendChild(actions);
    return li;
  }
}
