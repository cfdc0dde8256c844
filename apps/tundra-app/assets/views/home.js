// Participant start: what to do now (surveys to answer, months to attest).
import { t, fmtDate, fmtMonth, fmtDateShort } from '../i18n.js';
import { el, h1, linkButton } from '../ui.js';

export async function render(params, ctx) {
  const todo = await ctx.api.get('/api/todo');
  const s = ctx.status();
  const parts = [h1(t('home.title', { name: s.user.name.split(' ')[0] }))];
  const nothing = !todo.surveys.length && !todo.months.length;
  if (nothing) parts.push(el('p', { class: 'lead' }, t('home.nothing')));
  if (todo.surveys.length) {
    const ul = el('ul', { class: 'card-list' });
    for (const sv of todo.surveys) {
      ul.appendChild(el('li', { class: 'card' },
        el('h3', {}, sv.course_title),
        el('p', {}, t('home.survey_when', { day: fmtDate(sv.ends_at) })),
        sv.closes_on ? el('p', { class: 'hint' }, t('home.survey_closes', { day: fmtDateShort(`${sv.closes_on}T12:00:00Z`) })) : null,
        linkButton(t('home.survey_answer'), `#/survey/${encodeURIComponent(sv.occasion)}`, { icon: 'pen', kind: 'primary', key: `survey-${sv.occasion}` })));
    }
    parts.push(el('section', { 'aria-labelledby': 'home-surveys' }, el('h2', { id: 'home-surveys' }, t('home.surveys_title')), ul));
  }
  if (todo.months.length) {
    const ul = el('ul', { class: 'card-list' });
    for (const m of todo.months) {
      ul.appendChild(el('li', { class: 'card' },
        el('h3', {}, fmtMonth(m.month)),
        el('p', {}, t('home.month_summary', { occasions: m.occasions, minutes: m.suggested_minutes })),
        linkButton(t('home.attest'), `#/attest/${encodeURIComponent(m.month)}`, { icon: 'check', kind: 'primary', key: `attest-${m.month}` })));
    }
    parts.push(el('section', { 'aria-labelledby': 'home-months' }, el('h2', { id: 'home-months' }, t('home.months_title')), ul));
  }
  parts.push(el('section', { 'aria-labelledby': 'home-more' }, el('h2', { id: 'home-more' }, t('home.more_title')),
    el('div', { class: 'actions' },
      linkButton(t('home.find_courses'), '#/catalogue', { icon: 'search', big: true }),
      linkButton(t('home.my_courses'), '#/enrolments', { icon: 'list', big: true }))));
  return el('div', { class: 'screen screen-home' }, ...parts);
}
