// Coordinator: occasions at my sites, by Stockholm day: today first, then recent, then coming.
import { t, fmtDay, fmtTime } from '../i18n.js';
import { el, h1, badge } from '../ui.js';
import { icon } from '../icons.js';

export async function render(params, ctx) {
  const data = await ctx.api.get('/api/occasions');
  const today = data.days.filter((d) => d.date === data.today);
  const recent = data.days.filter((d) => d.date < data.today).sort((a, b) => b.date.localeCompare(a.date));
  const coming = data.days.filter((d) => d.date > data.today).sort((a, b) => a.date.localeCompare(b.date));
  const parts = [h1(t('today.title'))];
  parts.push(group('today-now', t('today.today', { day: fmtDay(data.today) }), today, t('today.none_today'), false));
  if (recent.length) parts.push(group('today-recent', t('today.recent'), recent, null, true));
  if (coming.length) parts.push(group('today-coming', t('today.coming'), coming, null, true));
  return el('div', { class: 'screen screen-today' }, ...parts);

  function group(id, title, days, emptyText, dayHeadings) {
    const sec = el('section', { 'aria-labelledby': id }, el('h2', { id }, title));
    const occ = days.flatMap((d) => d.occasions);
    if (!occ.length) { sec.appendChild(el('p', {}, emptyText || t('today.none'))); return sec; }
    for (const d of days) {
      if (dayHeadings) sec.appendChild(el('h3', {}, fmtDay(d.date)));
      const ul = el('ul', { class: 'occasion-links' });
      for (const o of d.occasions) ul.appendChild(el('li', {}, occasionLink(o)));
      sec.appendChild(ul);
    }
    return sec;
  }
}

function occasionLink(o) {
  const cancelled = o.status === 'cancelled';
  return el('a', { class: 'occasion-link', href: `#/roster/${encodeURIComponent(o.id)}`, 'data-key': `occ-${o.id}` },
    el('span', { class: 'occ-title' }, o.course_title),
    el('span', { class: 'occ-meta' }, icon('clock'), `${fmtTime(o.starts_at)}–${fmtTime(o.ends_at)}`, o.site_name ? ` · ${o.site_name}` : ''),
    cancelled ? badge(t('occasion_status.cancelled'), 'bad', 'cross')
      : el('span', { class: 'occ-meta' }, icon('people'), t('today.marked', { marked: o.marked, confirmed: o.confirmed }),
        o.waitlisted ? ` · ${t('today.waitlisted', { count: o.waitlisted })}` : ''));
}
