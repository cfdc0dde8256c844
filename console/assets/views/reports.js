// Reports: the monthly ESF ledger and the statistics for a month, an organisation and an
// "as of" moment, with charts (each followed by a table of the same numbers), CSV and JSON
// downloads for exactly the as_of the page showed, and sealing a month (admins).
import { t, enumText, fmtNumber, fmtPercent, fmtMonth, fmtDateTime, stockholmToIso, isoToStockholm, stockholmMonth } from '../i18n.js';
import { el, h1, field, button, linkButton, errorBox, busy, table, pagedTable, emptyNote, dl, badge, confirmDialog } from '../ui.js';
import { apiUrl } from '../api.js';
import { barChart, lineChart } from '../chart.js';
import { places, orgName } from './common.js';

const REPORTS = ['ledger', 'participants', 'attendance', 'surveys', 'deviations'];
const AGE_BANDS = ['under_18', '18_29', '30_54', '55_plus', 'unknown'];
const GENDERS = ['woman', 'man', 'non_binary', 'undisclosed'];
const TREND_MONTHS = 6;

function reportLabel(name) {
  return {
    ledger: t('reports.ledger'), participants: t('reports.participants'), attendance: t('reports.attendance'),
    surveys: t('reports.surveys'), deviations: t('reports.deviations'),
  }[name];
}
function ageLabel(band) {
  return {
    under_18: t('reports.age_under_18'), '18_29': t('reports.age_18_29'), '30_54': t('reports.age_30_54'),
    '55_plus': t('reports.age_55_plus'), unknown: t('reports.age_unknown'), all: t('reports.all'),
  }[band] || band;
}
function previousMonth() {
  const [y, m] = stockholmMonth().split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
function addMonths(month, n) {
  const [y, m] = month.split('-').map(Number);
  const k = y * 12 + (m - 1) + n;
  return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`;
}
const num = (v) => (v === null || v === undefined ? t('reports.suppressed') : fmtNumber(v));
const maybe = (v, f) => (v === null || v === undefined ? t('common.none') : f(v));
const hours = (v) => fmtNumber(v, 2);

export async function render(params, ctx) {
  const q = params.query;
  const name = REPORTS.includes(q.get('report')) ? q.get('report') : 'ledger';
  const month = /^\d{4}-\d{2}$/.test(q.get('month') || '') ? q.get('month') : previousMonth();
  const organisation = q.get('organisation') || '';
  const asOf = q.get('as_of') || '';
  const [p, seals] = await Promise.all([places(ctx.api), ctx.api.get('/seals')]);
  const me = ctx.me();
  const orgs = [...p.organisations.values()].filter((o) => ctx.isAdmin() || (me.organisations || []).includes(o.id));

  const asOfLocal = isoToStockholm(asOf);
  const f = {
    report: field(t('reports.report'), { tag: 'select', name: 'report', value: name, options: REPORTS.map((r) => ({ value: r, label: reportLabel(r) })) }),
    month: field(t('reports.month'), { type: 'month', name: 'month', value: month, required: true, hint: t('reports.month_hint') }),
    organisation: field(t('reports.organisation'), { tag: 'select', name: 'organisation', value: organisation, options: [{ value: '', label: t('reports.all_organisations') }].concat(orgs.map((o) => ({ value: o.id, label: o.name }))) }),
    asOfDay: field(t('reports.as_of_day'), { type: 'date', name: 'as_of', value: asOfLocal.day, hint: t('reports.as_of_hint') }),
    asOfTime: field(t('reports.as_of_time'), { type: 'time', value: asOfLocal.time || '' }),
  };
  const box = errorBox();
  const show = button(t('reports.show'), { type: 'submit', kind: 'primary', icon: 'chart', key: 'report-show' });
  const form = el('form', { class: 'filters', novalidate: true, 'aria-label': t('reports.form_label') },
    el('div', { class: 'filter-grid' }, f.report.wrap, f.month.wrap, f.organisation.wrap, f.asOfDay.wrap, f.asOfTime.wrap),
    box.node, el('div', { class: 'actions' }, show));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of Object.values(f)) x.setError(null);
    box.clear();
    if (!/^\d{4}-\d{2}$/.test(f.month.input.value)) { f.month.setError(t('reports.need_month')); box.show(t('error.form')); f.month.input.focus(); return; }
    const qs = new URLSearchParams({ report: f.report.input.value, month: f.month.input.value });
    if (f.organisation.input.value) qs.set('organisation', f.organisation.input.value);
    if (f.asOfDay.input.value) qs.set('as_of', stockholmToIso(f.asOfDay.input.value, f.asOfTime.input.value || '23:59'));
    ctx.navigate(`#/reports?${qs}`);
  });

  const seal = (seals.seals || []).find((x) => x.month === month);
  // A sealed month reports as of its seal unless asked otherwise (also the six-month range).
  const effectiveAsOf = asOf || (seal ? new Date(seal.sealed_ms).toISOString() : '');
  const query = { month, organisation, as_of: effectiveAsOf };
  // Participants: one request for the six months up to this one (the hours-per-month line);
  // the month's own figures are its rows, the downloads are the month's report.
  const ask = name === 'participants' ? { from: addMonths(month, -(TREND_MONTHS - 1)), to: month, organisation, as_of: effectiveAsOf } : query;
  const result = el('section', { 'aria-labelledby': 'report-title', class: 'report' });
  let body;
  let got;
  try {
    got = await ctx.api.getFull(`/reports/${name}`, Object.assign({ format: 'json' }, ask));
    body = got.data;
  } catch (err) {
    const e = errorBox();
    e.show(err);
    result.append(el('h2', { id: 'report-title' }, reportLabel(name)), e.node);
    return el('div', {}, h1(t('reports.title')), form, result);
  }
  // The moment this page shows: downloads ask for exactly this as_of.
  const shownAsOf = body.as_of || got.headers.get('X-Report-As-Of') || asOf;
  const dlQuery = Object.assign({}, query, { as_of: shownAsOf, download: 1 });
  result.append(
    el('h2', { id: 'report-title' }, t('reports.heading', { report: reportLabel(name), month: fmtMonth(month) })),
    dl([
      [t('reports.organisation'), organisation ? orgName(p, organisation) : t('reports.all_organisations')],
      [t('reports.as_of'), shownAsOf ? fmtDateTime(shownAsOf) : t('common.none')],
      [t('reports.seal'), seal ? badge(t('reports.sealed', { when: fmtDateTime(seal.sealed_ms), by: seal.actor }), 'ok', 'lock') : t('reports.not_sealed')],
      body.min_cell !== undefined ? [t('reports.min_cell'), t('reports.min_cell_text', { n: body.min_cell })] : null,
    ]),
    el('div', { class: 'actions' },
      linkButton(t('reports.download_csv'), apiUrl(`/reports/${name}`, Object.assign({ format: 'csv' }, dlQuery)), { icon: 'download', key: 'dl-csv' }),
      linkButton(t('reports.download_json'), apiUrl(`/reports/${name}`, Object.assign({ format: 'json' }, dlQuery)), { icon: 'download', key: 'dl-json' })));
  const titles = name === 'attendance' || name === 'surveys' ? await courseTitles(ctx) : null;
  const views = { ledger: ledgerView, participants: participantsView, attendance: attendanceView, surveys: surveysView, deviations: deviationsView };
  result.append(views[name](body, { p, titles, month }));
  const parts = [h1(t('reports.title')), form, result];
  if (ctx.isAdmin() && !seal) parts.push(sealSection(ctx, month));
  return el('div', {}, parts);
}

async function courseTitles(ctx) {
  const c = await ctx.api.get('/courses', { limit: 500 });
  return new Map((c.rows || []).map((r) => [r.id, r.title]));
}

function ledgerView(body, { p }) {
  const rows = body.rows || [];
  const corrections = body.corrections || [];
  const total = rows.reduce((a, r) => a + (r.attended_minutes || 0), 0);
  const byGender = GENDERS.map((g) => ({ label: enumText('gender', g), value: rows.filter((r) => r.gender === g).length }));
  const byAge = AGE_BANDS.map((b) => ({ label: ageLabel(b), value: rows.filter((r) => r.age_band === b).length }));
  const cols = [
    { label: t('reports.col_person'), cell: (r) => r.person },
    { label: t('reports.col_organisation'), cell: (r) => orgName(p, r.organisation) },
    { label: t('reports.col_gender'), cell: (r) => enumText('gender', r.gender) },
    { label: t('reports.col_age_band'), cell: (r) => maybe(r.age_band, ageLabel) },
    { label: t('reports.col_start'), cell: (r) => maybe(r.start_month, String) },
    { label: t('reports.col_end'), cell: (r) => maybe(r.end_month, String) },
    { label: t('reports.col_attended'), cell: (r) => maybe(r.attended_minutes, fmtNumber), num: true },
    { label: t('reports.col_attested'), cell: (r) => maybe(r.attested_minutes, fmtNumber), num: true },
  ];
  return el('div', {},
    dl([[t('reports.ledger_persons'), fmtNumber(rows.length)], [t('reports.ledger_hours'), hours(total / 60)], [t('reports.ledger_corrections'), fmtNumber(corrections.length)]]),
    rows.length ? [
      barChart(byGender, fmtNumber, { caption: t('reports.chart_gender'), labelHeader: t('reports.col_gender'), valueLabel: t('reports.col_persons') }),
      barChart(byAge, fmtNumber, { caption: t('reports.chart_age'), labelHeader: t('reports.col_age_band'), valueLabel: t('reports.col_persons') }),
      el('h3', {}, t('reports.ledger_rows')),
      pagedTable(t('reports.ledger_caption'), cols, rows),
    ] : emptyNote(t('reports.ledger_empty')),
    corrections.length ? [el('h3', {}, t('reports.corrections')),
      table(t('reports.corrections_caption'), [{ label: t('reports.col_month'), cell: (r) => r.month }].concat(cols), corrections, { rowHeader: false })] : null);
}

function participantsView(body, { month }) {
  const rows = body.rows || [];
  const pick = (cond) => rows.filter((r) => r.month === month && r.organisation === 'all' && cond(r));
  const gender = pick((r) => r.theme === 'all' && r.age_band === 'all' && r.gender !== 'all');
  const age = pick((r) => r.theme === 'all' && r.gender === 'all' && r.age_band !== 'all');
  const themes = pick((r) => r.gender === 'all' && r.age_band === 'all' && r.theme !== 'all');
  const total = pick((r) => r.theme === 'all' && r.gender === 'all' && r.age_band === 'all')[0];
  const from = body.from || month;
  const perMonth = (body.rows || []).filter((r) => r.organisation === 'all' && r.theme === 'all' && r.gender === 'all' && r.age_band === 'all');
  return el('div', {},
    total ? dl([[t('reports.col_participants'), num(total.participants)], [t('reports.col_attendees'), num(total.attendees)], [t('reports.col_hours'), total.hours === null ? t('reports.suppressed') : hours(total.hours)]]) : null,
    barChart(gender.map((r) => ({ label: enumText('gender', r.gender), value: r.participants })), fmtNumber,
      { caption: t('reports.chart_gender'), labelHeader: t('reports.col_gender'), valueLabel: t('reports.col_participants') }),
    barChart(age.map((r) => ({ label: ageLabel(r.age_band), value: r.participants })), fmtNumber,
      { caption: t('reports.chart_age'), labelHeader: t('reports.col_age_band'), valueLabel: t('reports.col_participants') }),
    lineChart(perMonth.map((r) => ({ label: r.month, value: r.hours })), hours,
      { caption: t('reports.chart_hours_month', { from: fmtMonth(from), to: fmtMonth(month) }), labelHeader: t('reports.col_month'), valueLabel: t('reports.col_hours') }),
    themes.length ? barChart(themes.map((r) => ({ label: r.theme === 'unspecified' ? t('reports.theme_unspecified') : r.theme, value: r.hours })), hours,
      { caption: t('reports.chart_hours_theme'), labelHeader: t('reports.col_theme'), valueLabel: t('reports.col_hours') }) : null);
}

function attendanceView(body, { p, titles }) {
  const courses = (body.rows || []).filter((r) => r.level === 'course');
  const occasions = (body.rows || []).filter((r) => r.level === 'occasion');
  const title = (r) => titles.get(r.course) || r.course;
  const rate = (v) => (v === null || v === undefined ? t('reports.suppressed') : fmtPercent(v));
  if (!courses.length) return emptyNote(t('reports.attendance_empty'));
  return el('div', {},
    barChart(courses.map((r) => ({ label: title(r), value: r.attendance_rate === null ? null : r.attendance_rate })), fmtPercent,
      { caption: t('reports.chart_attendance_rate'), labelHeader: t('reports.col_course'), valueLabel: t('reports.col_attendance_rate'), max: 1 }),
    el('h3', {}, t('reports.by_course')),
    table(t('reports.attendance_caption'), [
      { label: t('reports.col_course'), cell: title },
      { label: t('reports.col_confirmed'), cell: (r) => num(r.confirmed), num: true },
      { label: t('reports.col_attended_n'), cell: (r) => num(r.attended), num: true },
      { label: t('reports.col_absent'), cell: (r) => num(r.absent), num: true },
      { label: t('reports.col_attendance_rate'), cell: (r) => rate(r.attendance_rate), num: true },
      { label: t('reports.col_persons'), cell: (r) => num(r.persons), num: true },
      { label: t('reports.col_completed'), cell: (r) => num(r.completed), num: true },
      { label: t('reports.col_completion_rate'), cell: (r) => rate(r.completion_rate), num: true },
    ], courses),
    el('h3', {}, t('reports.by_occasion')),
    table(t('reports.occasions_caption'), [
      { label: t('reports.col_course'), cell: title },
      { label: t('reports.col_occasion'), cell: (r) => r.occasion },
      { label: t('reports.col_organisation'), cell: (r) => orgName(p, r.organisation) },
      { label: t('reports.col_confirmed'), cell: (r) => num(r.confirmed), num: true },
      { label: t('reports.col_attended_n'), cell: (r) => num(r.attended), num: true },
      { label: t('reports.col_attendance_rate'), cell: (r) => rate(r.attendance_rate), num: true },
    ], occasions));
}

function surveysView(body, { titles }) {
  const courses = (body.rows || []).filter((r) => r.level === 'course');
  const title = (r) => titles.get(r.course) || r.course;
  const mean = (v) => (v === null || v === undefined ? t('reports.suppressed') : fmtNumber(v, 2));
  if (!courses.length) return emptyNote(t('reports.surveys_empty'));
  return el('div', {},
    barChart(courses.map((r) => ({ label: title(r), value: r.rating_overall_mean })), (v) => fmtNumber(v, 2),
      { caption: t('reports.chart_overall'), labelHeader: t('reports.col_course'), valueLabel: t('reports.col_overall'), max: 5 }),
    table(t('reports.surveys_caption'), [
      { label: t('reports.col_course'), cell: title },
      { label: t('reports.col_answers'), cell: (r) => num(r.answers), num: true },
      { label: t('reports.col_response_rate'), cell: (r) => (r.response_rate === null || r.response_rate === undefined ? t('reports.suppressed') : fmtPercent(r.response_rate)), num: true },
      { label: t('reports.col_content'), cell: (r) => mean(r.rating_content_mean), num: true },
      { label: t('reports.col_usefulness'), cell: (r) => mean(r.rating_usefulness_mean), num: true },
      { label: t('reports.col_overall'), cell: (r) => mean(r.rating_overall_mean), num: true },
    ], courses));
}

function deviationsView(body, { p }) {
  const rows = body.rows || [];
  const counts = rows.filter((r) => r.record === 'count');
  const log = rows.filter((r) => r.record === 'deviation');
  const byCategory = counts.filter((r) => r.organisation === 'all' && r.category !== 'all');
  const org = (id) => (id === 'all' ? t('reports.all') : orgName(p, id));
  return el('div', {},
    byCategory.length ? barChart(byCategory.map((r) => ({ label: enumText('category', r.category), value: (r.open_count || 0) + (r.handled_count || 0) })), fmtNumber,
      { caption: t('reports.chart_deviations'), labelHeader: t('reports.col_category'), valueLabel: t('reports.col_count') }) : null,
    table(t('reports.deviation_counts_caption'), [
      { label: t('reports.col_organisation'), cell: (r) => org(r.organisation) },
      { label: t('reports.col_category'), cell: (r) => (r.category === 'all' ? t('reports.all') : enumText('category', r.category)) },
      { label: t('reports.col_open'), cell: (r) => fmtNumber(r.open_count || 0), num: true },
      { label: t('reports.col_handled'), cell: (r) => fmtNumber(r.handled_count || 0), num: true },
    ], counts, { rowHeader: false }),
    el('h3', {}, t('reports.deviation_log')),
    log.length ? table(t('reports.deviation_log_caption'), [
      { label: t('reports.col_logged'), cell: (r) => r.logged || t('common.none') },
      { label: t('reports.col_organisation'), cell: (r) => org(r.organisation) },
      { label: t('reports.col_category'), cell: (r) => enumText('category', r.category) },
      { label: t('reports.col_status'), cell: (r) => enumText('deviation_status', r.status) },
      { label: t('reports.col_description'), cell: (r) => r.description || '' },
      { label: t('reports.col_action'), cell: (r) => r.action_taken || t('common.none') },
      { label: t('reports.col_handled_on'), cell: (r) => r.handled || t('common.none') },
    ], log, { rowHeader: false }) : emptyNote(t('reports.deviation_log_empty')));
}

function sealSection(ctx, month) {
  const box = errorBox();
  const b = button(t('reports.seal_button', { month: fmtMonth(month) }), { kind: 'danger', icon: 'lock', key: 'seal' });
  b.addEventListener('click', async () => {
    const yes = await confirmDialog({ title: t('reports.seal_title', { month: fmtMonth(month) }), text: t('reports.seal_text'), confirmLabel: t('reports.seal_confirm'), danger: true });
    if (!yes) return;
    busy(b, async () => {
      try {
        await ctx.api.post('/seals', { month });
        ctx.announce(t('reports.sealed_done', { month: fmtMonth(month) }));
        ctx.rerender(null);
      } catch (err) { box.show(err); }
    });
  });
  return el('section', { 'aria-labelledby': 'seal-title' }, el('h2', { id: 'seal-title' }, t('reports.seal_heading')), el('p', {}, t('reports.seal_explain')), box.node, el('div', { class: 'actions' }, b));
}
