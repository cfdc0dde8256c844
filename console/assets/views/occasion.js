// An occasion: its facts, the roster (enrolment status, attendance, cancel), the waitlist in
// position order, enrolling a person, links to the print pages; admins edit or cancel it.
import { t, fmtSpan, fmtNumber, enumText } from '../i18n.js';
import { el, h1, field, button, linkButton, errorBox, busy, table, emptyNote, dl, confirmDialog, uid } from '../ui.js';
import { places, siteName, outcomeText, backLink, statusBadge, ATTENDANCE } from './common.js';
import { occasionForm } from './occasion_form.js';

function nameOf(x) { return (x && (x.name || x.title)) || ''; }

export async function render(params, ctx) {
  const id = params.id;
  const [p, roster] = await Promise.all([places(ctx.api), ctx.api.get(`/occasions/${encodeURIComponent(id)}/roster`)]);
  const o = roster.occasion;
  const course = roster.course || {};
  const siteId = typeof roster.site === 'object' && roster.site ? roster.site.id : o.site;
  const marks = new Map((roster.attendance || []).map((a) => [a.person, a]));
  const waitIds = new Set((roster.waitlist || []).map((w) => w.id));
  const enrolled = (roster.enrolments || []).filter((e) => !waitIds.has(e.id) && e.status !== 'waitlisted')
    .sort((a, b) => (a.person_name || '').localeCompare(b.person_name || ''));
  const box = errorBox();
  const cancelled = o.status === 'cancelled';

  function attendanceCell(e) {
    const mark = marks.get(e.person);
    if (e.status !== 'confirmed') return t('common.none');
    const selId = uid('att');
    const minId = uid('min');
    const sel = el('select', { id: selId, 'data-key': `att-${e.person}` },
      el('option', { value: '', selected: !mark || mark.status === 'unmarked' }, enumText('attendance_status', 'unmarked')),
      ATTENDANCE.map((s) => el('option', { value: s, selected: mark && mark.status === s }, enumText('attendance_status', s))));
    const minutes = el('input', { id: minId, type: 'number', min: 0, inputmode: 'numeric', class: 'minutes', value: mark && mark.minutes !== null && mark.minutes !== undefined ? mark.minutes : '' });
    const save = button(t('roster.save_mark'), { key: `mark-${e.person}` });
    save.querySelector('.btn-text').appendChild(el('span', { class: 'visually-hidden' }, ` ${t('roster.for_person', { name: e.person_name })}`));
    save.addEventListener('click', () => {
      if (!sel.value) { sel.focus(); return; }
      const body = { occasion: o.id, person: e.person, status: sel.value };
      if (minutes.value !== '') body.minutes = Number(minutes.value);
      busy(save, async () => {
        try {
          const res = await ctx.api.post('/attendance', body);
          ctx.announce(outcomeText(res));
          ctx.rerender(`mark-${e.person}`);
        } catch (err) { box.show(err); }
      });
    });
    return el('div', { class: 'mark' },
      el('label', { for: selId, class: 'visually-hidden' }, t('roster.mark_label', { name: e.person_name })), sel,
      el('label', { for: minId, class: 'minutes-label' }, t('roster.minutes')), minutes, save);
  }

  function actionsCell(e) {
    const out = [];
    if (e.status !== 'cancelled' && e.status !== 'rejected' && !cancelled) {
      const b = button(t('roster.cancel_enrolment'), { kind: 'secondary', key: `cancel-${e.id}` });
      b.querySelector('.btn-text').appendChild(el('span', { class: 'visually-hidden' }, ` ${t('roster.for_person', { name: e.person_name })}`));
      b.addEventListener('click', async () => {
        const yes = await confirmDialog({ title: t('roster.cancel_title'), text: t('roster.cancel_text', { name: e.person_name }), confirmLabel: t('roster.cancel_confirm'), danger: true });
        if (!yes) return;
        busy(b, async () => {
          try {
            const res = await ctx.api.post(`/enrolments/${encodeURIComponent(e.id)}/cancel`, {});
            ctx.announce(outcomeText(res));
            ctx.rerender(null);
          } catch (err) { box.show(err); }
        });
      });
      out.push(b);
    }
    if (e.status === 'confirmed') {
      const a = el('a', { href: `#/print/certificate/${encodeURIComponent(o.id)}/${encodeURIComponent(e.person)}` }, t('roster.certificate'),
        el('span', { class: 'visually-hidden' }, ` ${t('roster.for_person', { name: e.person_name })}`));
      out.push(a);
    }
    return out.length ? el('div', { class: 'cell-actions' }, out) : t('common.none');
  }

  const parts = [
    backLink(ctx.isAdmin() ? t('occasion.back_course') : t('occasion.back_list'), ctx.isAdmin() ? `#/course/${encodeURIComponent(o.course)}` : '#/occasions'),
    h1(nameOf(course) || o.course),
    dl([
      [t('occasion.when'), fmtSpan(o.starts_at, o.ends_at)],
      [t('occasion.site'), siteName(p, siteId)],
      [t('occasion.places'), t('occasion.places_text', { confirmed: fmtNumber(o.confirmed || 0), capacity: fmtNumber(o.capacity) })],
      [t('occasion.status'), statusBadge('occasion_status', o.status)],
    ]),
    el('div', { class: 'actions' },
      linkButton(t('occasion.print_attendance'), `#/print/attendance/${encodeURIComponent(o.id)}`, { icon: 'print' })),
    box.node,
    el('h2', {}, t('roster.title')),
    enrolled.length ? table(t('roster.caption', { count: enrolled.length }), [
      { label: t('roster.name'), cell: (e) => el('a', { href: `#/person/${encodeURIComponent(e.person)}` }, e.person_name || e.person) },
      { label: t('roster.status'), cell: (e) => statusBadge('enrolment_status', e.status) },
      { label: t('roster.attendance'), cell: attendanceCell },
      { label: t('roster.actions'), cell: actionsCell },
    ], enrolled) : emptyNote(t('roster.empty')),
    el('h2', {}, t('roster.waitlist')),
    (roster.waitlist || []).length ? el('ol', { class: 'waitlist' }, roster.waitlist.map((w) => el('li', {},
      el('span', {}, t('roster.waitlist_item', { name: w.person_name || w.person, position: w.waitlist_position === null || w.waitlist_position === undefined ? '' : w.waitlist_position })),
      ' ', actionsCell(w)))) : emptyNote(t('roster.waitlist_empty')),
  ];
  if (!cancelled) parts.push(enrolForm(ctx, o));
  if (ctx.isAdmin() && !cancelled) {
    parts.push(el('h2', {}, t('occasion.edit')));
    parts.push(occasionForm(ctx, p, { course: o.course, occasion: o, onSaved: async (res) => { ctx.announce(outcomeText(res)); ctx.rerender('occasion-save'); } }));
    const cancelBtn = button(t('occasion.cancel'), { kind: 'danger', icon: 'cross', key: 'occasion-cancel' });
    cancelBtn.addEventListener('click', async () => {
      const yes = await confirmDialog({ title: t('occasion.cancel_title'), text: t('occasion.cancel_text'), confirmLabel: t('occasion.cancel_confirm'), danger: true });
      if (!yes) return;
      busy(cancelBtn, async () => {
        try {
          const res = await ctx.api.post(`/occasions/${encodeURIComponent(o.id)}/cancel`, {});
          ctx.announce(outcomeText(res));
          ctx.rerender(null);
        } catch (err) { box.show(err); }
      });
    });
    parts.push(el('div', { class: 'actions danger-zone' }, cancelBtn));
  }
  return el('div', {}, parts);
}

// Search a person and enrol them (POST /api/enrolments; the server places them or waitlists).
function enrolForm(ctx, o) {
  const search = field(t('roster.enrol_search'), { type: 'search', name: 'q', hint: t('roster.enrol_hint') });
  const results = el('div', { class: 'results', 'aria-live': 'polite' });
  const box = errorBox();
  const go = button(t('common.search'), { type: 'submit', icon: 'search' });
  const form = el('form', { role: 'search', 'aria-labelledby': 'enrol-title' }, search.wrap, el('div', { class: 'actions' }, go));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(go, async () => {
      try {
        const data = await ctx.api.get('/persons', { q: search.input.value.trim(), limit: 20 });
        const rows = (data.rows || []).filter((r) => !r.erased);
        results.replaceChildren(rows.length ? el('ul', { class: 'plain-list' }, rows.map((r) => {
          const b = button(t('roster.enrol'), { kind: 'primary', icon: 'plus', key: `enrol-${r.id}` });
          b.querySelector('.btn-text').appendChild(el('span', { class: 'visually-hidden' }, ` ${r.name}`));
          b.addEventListener('click', () => busy(b, async () => {
            try {
              const res = await ctx.api.post('/enrolments', { occasion: o.id, person: r.id });
              ctx.announce(outcomeText(res));
              ctx.rerender(null);
            } catch (err) { box.show(err); }
          }));
          return el('li', { class: 'result-row' }, el('span', { class: 'person-name' }, r.name), b);
        })) : emptyNote(t('roster.enrol_none')));
      } catch (err) { box.show(err); }
    });
  });
  return el('section', { 'aria-labelledby': 'enrol-title' }, el('h2', { id: 'enrol-title' }, t('roster.enrol_title')), form, box.node, results);
}
