// Participant: my attendance, as the coordinators marked it.
import { t, fmtDate, fmtTime } from '../i18n.js';
import { el, h1, badge, pendingBadge } from '../ui.js';

const ICONS = { present: 'check', late: 'late', left_early: 'leave', absent: 'cross', excused: 'excused', unmarked: 'clock' };

export async function render(params, ctx) {
  const { marks } = await ctx.api.get('/api/attendance');
  const parts = [h1(t('attendance.title'))];
  if (!marks.length) parts.push(el('p', { class: 'lead' }, t('attendance.empty')));
  else {
    const total = marks.reduce((a, m) => a + (m.minutes || 0), 0);
    parts.push(el('p', { class: 'lead' }, t('attendance.total', { minutes: total })));
    const ul = el('ul', { class: 'card-list' });
    for (const m of marks) {
      ul.appendChild(el('li', { class: 'card' },
        el('h2', { class: 'card-title' }, m.course_title),
        el('p', { class: 'when' }, t('attendance.when', { day: fmtDate(m.starts_at), time: fmtTime(m.starts_at) })),
        el('div', { class: 'state-line' },
          badge(t(`attendance_status.${m.status}`), m.status === 'present' ? 'ok' : 'info', ICONS[m.status] || 'clock'),
          m.minutes !== null && m.minutes !== undefined ? el('span', {}, t('attendance.minutes', { minutes: m.minutes })) : null,
          m.pending ? pendingBadge() : null)));
    }
    parts.push(ul);
  }
  return el('div', { class: 'screen screen-attendance' }, ...parts);
}
