// Occasions at a coordinator's sites (or any, for admins) in a date range: links to rosters.
import { t, fmtSpan, fmtNumber, isoToStockholm } from '../i18n.js';
import { el, h1, field, button, table, emptyNote } from '../ui.js';
import { places, siteName, siteOptions, statusBadge } from './common.js';

function dayOffset(days) { return isoToStockholm(new Date(Date.now() + days * 86400000).toISOString()).day; }

export async function render(params, ctx) {
  const me = ctx.me();
  const from = params.query.get('from') || dayOffset(-14);
  const to = params.query.get('to') || dayOffset(60);
  const site = params.query.get('site') || '';
  const [p, courses, occ] = await Promise.all([
    places(ctx.api),
    ctx.api.get('/courses', { limit: 500 }),
    ctx.api.get('/occasions', { from, to, site, limit: 500 }),
  ]);
  const titles = new Map((courses.rows || []).map((c) => [c.id, c.title]));
  const f = {
    from: field(t('occasions.from'), { type: 'date', value: from, name: 'from' }),
    to: field(t('occasions.to'), { type: 'date', value: to, name: 'to' }),
    site: field(t('occasion.site'), { tag: 'select', name: 'site', value: site, options: [{ value: '', label: t('occasions.all_sites') }].concat(siteOptions(p, me.role === 'admin' ? null : me.sites)) }),
  };
  const form = el('form', { class: 'filters', 'aria-label': t('occasions.filter_label') },
    el('div', { class: 'filter-grid' }, f.from.wrap, f.to.wrap, f.site.wrap),
    el('div', { class: 'actions' }, button(t('common.show'), { type: 'submit', kind: 'primary', icon: 'search' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ from: f.from.input.value, to: f.to.input.value });
    if (f.site.input.value) q.set('site', f.site.input.value);
    ctx.navigate(`#/occasions?${q}`);
  });
  const rows = occ.rows || [];
  return el('div', {},
    h1(t('occasions.title')),
    form,
    el('p', { class: 'result-count', role: 'status' }, t('occasions.count', { count: rows.length })),
    rows.length ? table(t('occasions.caption'), [
      { label: t('occasions.course'), cell: (o) => el('a', { href: `#/occasion/${encodeURIComponent(o.id)}` }, titles.get(o.course) || o.course) },
      { label: t('occasion.when'), cell: (o) => fmtSpan(o.starts_at, o.ends_at) },
      { label: t('occasion.site'), cell: (o) => siteName(p, o.site) },
      { label: t('occasion.places'), cell: (o) => t('occasion.places_text', { confirmed: fmtNumber(o.confirmed || 0), capacity: fmtNumber(o.capacity) }) },
      { label: t('occasion.status'), cell: (o) => statusBadge('occasion_status', o.status) },
    ], rows) : emptyNote(t('occasions.empty')));
}
