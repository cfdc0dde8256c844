// Coordinator: the roster; one tap per person marks present/absent/late/left early/excused.
import { t, fmtSpan, minutesBetween } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, pendingBadge, badge } from '../ui.js';
import { icon } from '../icons.js';

const STATUSES = [['present', 'check'], ['absent', 'cross'], ['late', 'late'], ['left_early', 'leave'], ['excused', 'excused']];
const COUNTS = new Set(['present', 'late', 'left_early']);

export async function render(params, ctx) {
  const data = await ctx.api.get(`/api/roster?occasion=${encodeURIComponent(params.occasion)}`);
  const o = data.occasion;
  const length = minutesBetween(o.starts_at, o.ends_at);
  const err = errorBox();
  const confirmed = data.people.filter((p) => p.status === 'confirmed');
  const queue = data.people.filter((p) => p.status === 'waitlisted').sort((a, b) => (a.waitlist_position || 0) - (b.waitlist_position || 0));
  const unmarked = confirmed.filter((p) => !p.mark || p.mark.status === 'unmarked');
  const minutesInputs = new Map();

  async function mark(p, status, minutes) {
    await ctx.api.post('/api/mark', { occasion: o.id, person: p.person, status, minutes: COUNTS.has(status) ? minutes : 0 });
  }
  async function after(key, text) {
    ctx.announce(text);
    await ctx.refreshStatus();
    await ctx.rerender(key);
  }

  const allBtn = button(t('roster.all_present', { count: unmarked.length }), { icon: 'check', kind: 'primary', big: true, key: 'all-present', disabled: !unmarked.length });
  allBtn.addEventListener('click', async () => {
    allBtn.disabled = true;
    err.clear();
    try {
      for (const p of unmarked) await mark(p, 'present', Number((minutesInputs.get(p.person) || {}).value) || length);
      await after('all-present', t('roster.all_present_saved', { count: unmarked.length }));
    } catch (ex) { err.show(ex); allBtn.disabled = false; }
  });

  const rows = el('ul', { class: 'roster' });
  for (const p of confirmed) {
    const nameId = `p-${p.person}`;
    const current = p.mark ? p.mark.status : 'unmarked';
    const minutes = el('input', { type: 'number', id: `min-${p.person}`, min: 0, max: 1440, inputmode: 'numeric',
      value: String(p.mark && p.mark.minutes !== null && p.mark.minutes !== undefined && COUNTS.has(current) ? p.mark.minutes : length),
      'data-key': `min-${p.person}`, 'aria-label': t('roster.minutes_for', { name: p.name }) });
    minutesInputs.set(p.person, minutes);
    // Minutes typed for someone not yet marked are saved with the next tap: until then a
    // background refresh must not put the old figure back.
    minutes.addEventListener('input', () => minutes.setAttribute('data-hold', ''));
    minutes.addEventListener('change', async () => {
      if (!COUNTS.has(current)) return;  // saved with the next tap
      const v = Number(minutes.value);
      if (!Number.isInteger(v) || v < 0) { err.show(t('roster.bad_minutes')); return; }
      try { await mark(p, current, v); await after(`min-${p.person}`, t('roster.saved', { name: p.name, status: t(`attendance_status.${current}`) })); } catch (ex) { err.show(ex); }
    });
    const toggles = el('div', { class: 'toggles', role: 'group', 'aria-labelledby': nameId });
    for (const [st, ic] of STATUSES) {
      const key = `mark-${p.person}-${st}`;
      const b = button(t(`attendance_status.${st}`), { icon: ic, class: 'toggle', key, pressed: current === st ? 'true' : 'false' });
      b.addEventListener('click', async () => {
        b.disabled = true;
        err.clear();
        const v = Number(minutes.value);
        if (COUNTS.has(st) && (!Number.isInteger(v) || v < 0)) { err.show(t('roster.bad_minutes')); b.disabled = false; minutes.focus(); return; }
        try { await mark(p, st, v); await after(key, t('roster.saved', { name: p.name, status: t(`attendance_status.${st}`) })); } catch (ex) { err.show(ex); b.disabled = false; }
      });
      toggles.appendChild(b);
    }
    rows.appendChild(el('li', { class: 'roster-row' },
      el('div', { class: 'roster-head' },
        el('h3', { id: nameId, class: 'person-name' }, p.name),
        current === 'unmarked' ? badge(t('roster.not_marked'), 'info', 'clock') : null,
        p.mark && p.mark.pending ? pendingBadge() : null,
        p.pending ? pendingBadge() : null),
      toggles,
      el('div', { class: 'field field-inline' }, el('label', { for: `min-${p.person}` }, t('roster.minutes')), minutes)));
  }

  const parts = [
    h1(o.course_title),
    el('p', { class: 'lead' }, fmtSpan(o.starts_at, o.ends_at), o.site_name ? ` · ${o.site_name}` : ''),
    o.status === 'cancelled' ? badge(t('occasion_status.cancelled'), 'bad', 'cross') : null,
    el('p', {}, t('roster.summary', { marked: confirmed.length - unmarked.length, confirmed: confirmed.length, minutes: length })),
    el('div', { class: 'actions' }, allBtn,
      linkButton(t('roster.walk_in'), `#/walk-in/${encodeURIComponent(o.id)}`, { icon: 'plus' }),
      linkButton(t('roster.enrol_staff'), `#/enrol-staff/${encodeURIComponent(o.id)}`, { icon: 'people' }),
      linkButton(t('roster.deviation'), `#/deviations/new?occasion=${encodeURIComponent(o.id)}`, { icon: 'warning' })),
    err.node,
    el('section', { 'aria-labelledby': 'roster-people' }, el('h2', { id: 'roster-people' }, t('roster.people', { count: confirmed.length })),
      confirmed.length ? rows : el('p', {}, t('roster.empty'))),
  ];
  if (queue.length) {
    const ql = el('ol', { class: 'queue' });
    for (const p of queue) ql.appendChild(el('li', {}, el('span', {}, p.name), ' ', badge(t('enrolment.queue_place', { place: p.waitlist_position || 0 }), 'warn', 'clock'), p.pending ? pendingBadge() : null));
    parts.push(el('section', { 'aria-labelledby': 'roster-queue' }, el('h2', { id: 'roster-queue' }, t('roster.queue', { count: queue.length })), ql));
  }
  parts.push(el('div', { class: 'actions' }, linkButton(t('roster.back'), '#/today', { icon: 'back' })));
  return el('div', { class: 'screen screen-roster' }, ...parts);
}
