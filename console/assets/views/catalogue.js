// Catalogue (admins): the courses, searchable, filtered by published; links to each course.
import { t, enumText } from '../i18n.js';
import { el, h1, field, button, linkButton, table, badge, emptyNote } from '../ui.js';

export async function render(params, ctx) {
  const q = params.query.get('q') || '';
  const published = params.query.get('published') || '';
  const data = await ctx.api.get('/courses', { q, published, limit: 500 });
  const search = field(t('catalogue.search'), { name: 'q', type: 'search', value: q });
  const filter = field(t('catalogue.published_filter'), {
    tag: 'select', name: 'published', value: published,
    options: [{ value: '', label: t('catalogue.all') }, { value: 'true', label: t('catalogue.published_only') },
      { value: 'false', label: t('catalogue.unpublished_only') }],
  });
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': t('catalogue.search_label') },
    el('div', { class: 'filter-grid' }, search.wrap, filter.wrap),
    el('div', { class: 'actions' }, button(t('common.search'), { type: 'submit', kind: 'primary', icon: 'search' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (search.input.value.trim()) p.set('q', search.input.value.trim());
    if (filter.input.value) p.set('published', filter.input.value);
    ctx.navigate(`#/catalogue${p.toString() ? `?${p}` : ''}`);
  });
  const rows = data.rows || [];
  const count = el('p', { class: 'result-count', role: 'status' }, t('catalogue.count', { count: data.total === undefined ? rows.length : data.total }));
  const list = rows.length ? table(t('catalogue.table_caption'), [
    { label: t('course.title_label'), cell: (r) => el('a', { href: `#/course/${encodeURIComponent(r.id)}` }, r.title) },
    { label: t('course.format'), cell: (r) => enumText('format', r.format) },
    { label: t('course.theme'), cell: (r) => r.theme || t('common.none') },
    { label: t('course.length'), cell: (r) => (r.duration_minutes ? t('common.minutes', { minutes: r.duration_minutes }) : t('common.none')), num: true },
    { label: t('course.status'), cell: (r) => (r.published ? badge(t('course.published'), 'ok', 'check') : badge(t('course.unpublished'), 'warn', 'lock')) },
  ], rows) : emptyNote(q || published ? t('catalogue.none_found') : t('catalogue.empty'));
  return el('div', {},
    h1(t('catalogue.title')),
    el('div', { class: 'actions' }, linkButton(t('catalogue.new_course'), '#/course/new', { kind: 'primary', icon: 'plus' })),
    form, count, list);
}
