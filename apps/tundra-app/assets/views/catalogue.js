// Participant: the courses open to me, with filters; enrol gives an immediate pending state.
import { t, fmtSpan, fmtDateShort, stockholmDay, has } from '../i18n.js';
import { el, h1, button, field, errorBox, badge, busy } from '../ui.js';
import { enrolmentState, seatsText } from './common.js';

const filters = { theme: '', format: '', from: '', place: '', seats: false };
function anyFilter() { return !!(filters.theme || filters.format || filters.from || filters.place || filters.seats); }

export async function render(params, ctx) {
  const { courses } = await ctx.api.get('/api/catalogue');
  const err = errorBox();
  const themes = [...new Set(courses.map((c) => c.theme).filter(Boolean))].sort();
  const formats = [...new Set(courses.map((c) => c.format))].sort();
  const places = [...new Set(courses.flatMap((c) => c.occasions.map((o) => placeName(o))))].sort();
  const all = { value: '', label: t('catalogue.filter_all') };
  const fTheme = field(t('catalogue.filter_theme'), { tag: 'select', value: filters.theme, options: [all, ...themes.map((x) => ({ value: x, label: x }))] });
  const fFormat = field(t('catalogue.filter_format'), { tag: 'select', value: filters.format,
    options: [all, ...formats.map((x) => ({ value: x, label: has(`format.${x}`) ? t(`format.${x}`) : x }))] });
  const fFrom = field(t('catalogue.filter_from'), { type: 'date', value: filters.from });
  const fPlace = field(t('catalogue.filter_place'), { tag: 'select', value: filters.place, options: [all, ...places.map((x) => ({ value: x, label: x }))] });
  const seatsId = 'filter-seats';
  const fSeats = el('input', { type: 'checkbox', id: seatsId, checked: filters.seats });
  for (const [f, k] of [[fTheme, 'theme'], [fFormat, 'format'], [fPlace, 'place']]) { f.input.setAttribute('data-key', `filter-${k}`); }
  fFrom.input.setAttribute('data-key', 'filter-from');
  fSeats.setAttribute('data-key', 'filter-seats');
  const results = el('div', { class: 'results' });
  const count = el('p', { class: 'result-count' });

  function update(announce) {
    filters.theme = fTheme.input.value; filters.format = fFormat.input.value; filters.from = fFrom.input.value;
    filters.place = fPlace.input.value; filters.seats = fSeats.checked;
    const shown = [];
    for (const c of courses) {
      if (filters.theme && c.theme !== filters.theme) continue;
      if (filters.format && c.format !== filters.format) continue;
      const occ = c.occasions.filter((o) => (!filters.from || stockholmDay(o.starts_at) >= filters.from)
        && (!filters.place || placeName(o) === filters.place)
        && (!filters.seats || o.seats_left > 0));
      if (occ.length) shown.push([c, occ]);
    }
    const n = shown.reduce((a, [, occ]) => a + occ.length, 0);
    count.textContent = n ? t('catalogue.count', { count: n }) : t('catalogue.none');
    results.replaceChildren(...shown.map(([c, occ]) => courseCard(c, occ)));
    if (announce) ctx.announce(count.textContent);
  }

  function placeName(o) { return o.site_name || (o.online_link ? t('catalogue.online') : t('catalogue.no_place')); }

  function courseCard(c, occ) {
    const ul = el('ul', { class: 'occasion-list' });
    for (const o of occ) ul.appendChild(occasionItem(c, o));
    const facts = [has(`format.${c.format}`) ? t(`format.${c.format}`) : c.format, c.theme, c.provider].filter(Boolean).join(' · ');
    return el('section', { class: 'card course', 'aria-labelledby': `course-${c.id}` },
      el('h2', { id: `course-${c.id}` }, c.title), el('p', { class: 'hint' }, facts), ul);
  }

  function occasionItem(c, o) {
    const now = new Date();
    const li = el('li', { class: 'occasion' },
      el('p', { class: 'when' }, fmtSpan(o.starts_at, o.ends_at)),
      el('p', {}, placeName(o)));
    if (o.status === 'cancelled') { li.appendChild(badge(t('occasion_status.cancelled'), 'bad', 'cross')); return li; }
    li.appendChild(el('p', { class: 'seats' }, seatsText(o)));
    if (o.mine && o.mine.status !== 'cancelled') {
      li.appendChild(el('div', { class: 'mine', tabindex: '-1', 'data-key': `state-${o.id}` }, ...enrolmentState(o.mine)));
      return li;
    }
    if (o.enrolment_opens && new Date(o.enrolment_opens) > now) {
      li.appendChild(el('p', {}, t('catalogue.opens', { day: fmtDateShort(o.enrolment_opens) })));
      return li;
    }
    if (o.enrolment_closes && new Date(o.enrolment_closes) < now) {
      li.appendChild(el('p', {}, t('catalogue.closed')));
      return li;
    }
    const labelId = `occ-${o.id}`;
    li.firstChild.id = labelId;
    const btn = button(o.seats_left > 0 ? t('catalogue.enrol') : t('catalogue.enrol_waitlist'),
      { icon: 'plus', kind: 'primary', key: `enrol-${o.id}`, describedby: `course-${c.id} ${labelId}` });
    btn.addEventListener('click', () => busy(btn, async () => {
      err.clear();
      try {
        await ctx.api.post('/api/enrol', { occasion: o.id });
        ctx.announce(t('catalogue.enrol_saved', { title: c.title }));
        await ctx.refreshStatus();
        const fresh = await ctx.api.get('/api/catalogue');
        courses.splice(0, courses.length, ...fresh.courses);
        update(false);
        const again = results.querySelector(`[data-key="state-${o.id}"]`);
        if (again) again.focus();
      } catch (ex) { err.show(ex); }
    }));
    li.appendChild(btn);
    return li;
  }

  for (const f of [fTheme.input, fFormat.input, fFrom.input, fPlace.input, fSeats]) f.addEventListener('change', () => update(true));
  update(false);
  return el('div', { class: 'screen screen-catalogue' },
    h1(t('catalogue.title')),
    // Folded away on a phone-sized screen until asked for; open when a filter is in use.
    el('details', { class: 'filters', open: anyFilter() || window.innerWidth >= 600 },
      el('summary', { class: 'filters-summary', 'data-key': 'filters' }, t('catalogue.filters_title')),
      el('div', { class: 'filter-grid' }, fTheme.wrap, fFormat.wrap, fFrom.wrap, fPlace.wrap,
        el('div', { class: 'field field-check' }, fSeats, el('label', { for: seatsId }, t('catalogue.filter_seats'))))),
    count, err.node, results);
}
