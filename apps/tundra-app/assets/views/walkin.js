// Coordinator: someone came without an enrolment. Find them, or add a new person.
import { t, fmtSpan } from '../i18n.js';
import { el, h1, linkButton, busy } from '../ui.js';
import { personSearch } from './people_search.js';

export async function render(params, ctx) {
  const data = await ctx.api.get(`/api/roster?occasion=${encodeURIComponent(params.occasion)}`);
  const o = data.occasion;
  const already = new Set(data.people.filter((p) => p.status === 'confirmed').map((p) => p.person));
  const search = personSearch(ctx, {
    exclude: already,
    actionText: (p) => t('walkin.add', { name: p.name }),
    onPick: (p, btn, err) => busy(btn, async () => {
      try {
        await ctx.api.post('/api/walk-in', { occasion: o.id, person: p.id });
        ctx.announce(t('walkin.saved', { name: p.name }));
        await ctx.refreshStatus();
        ctx.navigate(`#/roster/${encodeURIComponent(o.id)}`);
      } catch (ex) { err.show(ex); }
    }),
  });
  return el('div', { class: 'screen screen-walkin' },
    h1(t('walkin.title')),
    el('p', { class: 'lead' }, t('walkin.intro', { title: o.course_title, when: fmtSpan(o.starts_at, o.ends_at) })),
    el('section', { 'aria-labelledby': 'walkin-find' }, el('h2', { id: 'walkin-find' }, t('walkin.find_title')), search),
    el('section', { 'aria-labelledby': 'walkin-new' }, el('h2', { id: 'walkin-new' }, t('walkin.new_title')),
      el('p', {}, t('walkin.new_intro')),
      linkButton(t('walkin.new_button'), `#/walk-in/${encodeURIComponent(o.id)}/new`, { icon: 'plus', big: true })),
    el('div', { class: 'actions' }, linkButton(t('roster.back_roster'), `#/roster/${encodeURIComponent(o.id)}`, { icon: 'back' })));
}
