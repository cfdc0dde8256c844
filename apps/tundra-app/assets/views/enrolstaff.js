// Coordinator: enrol staff into an occasion; shows who is enrolled and the queue.
import { t, fmtSpan } from '../i18n.js';
import { el, h1, linkButton, badge, pendingBadge, busy } from '../ui.js';
import { personSearch } from './people_search.js';

export async function render(params, ctx) {
  const data = await ctx.api.get(`/api/roster?occasion=${encodeURIComponent(params.occasion)}`);
  const o = data.occasion;
  const enrolled = new Set(data.people.filter((p) => p.status === 'confirmed' || p.status === 'waitlisted').map((p) => p.person));
  const search = personSearch(ctx, {
    exclude: enrolled,
    actionText: (p) => t('enrolstaff.enrol', { name: p.name }),
    onPick: (p, btn, err) => busy(btn, async () => {
      try {
        await ctx.api.post('/api/enrol', { occasion: o.id, person: p.id });
        ctx.announce(t('enrolstaff.saved', { name: p.name }));
        await ctx.refreshStatus();
        await ctx.rerender('search');
      } catch (ex) { err.show(ex); }
    }),
  });
  const seatsLeft = Math.max(0, o.capacity - o.confirmed);
  const list = el('ul', { class: 'plain-list' });
  for (const p of data.people) {
    list.appendChild(el('li', {}, el('span', { class: 'person-name' }, p.name), ' ',
      p.status === 'waitlisted' ? badge(t('enrolment.queue_place', { place: p.waitlist_position || 0 }), 'warn', 'clock')
        : badge(t(`enrolment_status.${p.status}`), p.status === 'confirmed' ? 'ok' : 'info', p.status === 'confirmed' ? 'check' : 'clock'),
      p.pending ? pendingBadge() : null));
  }
  return el('div', { class: 'screen screen-enrolstaff' },
    h1(t('enrolstaff.title')),
    el('p', { class: 'lead' }, t('enrolstaff.intro', { title: o.course_title, when: fmtSpan(o.starts_at, o.ends_at) })),
    el('p', {}, seatsLeft > 0 ? t('catalogue.seats_left', { count: seatsLeft }) : t('enrolstaff.full')),
    el('section', { 'aria-labelledby': 'es-find' }, el('h2', { id: 'es-find' }, t('enrolstaff.find_title')), search),
    el('section', { 'aria-labelledby': 'es-list' }, el('h2', { id: 'es-list' }, t('enrolstaff.list_title', { count: data.people.length })),
      data.people.length ? list : el('p', {}, t('roster.empty'))),
    el('div', { class: 'actions' }, linkButton(t('roster.back_roster'), `#/roster/${encodeURIComponent(o.id)}`, { icon: 'back' })));
}
