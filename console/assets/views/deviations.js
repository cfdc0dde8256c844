// Deviations (the ESF deviation log): list by status, log a new one, handle an open one.
import { t, enumText } from '../i18n.js';
import { el, h1, field, button, errorBox, showFormError, busy, emptyNote } from '../ui.js';
import { places, orgName, outcomeText, statusBadge, enumOptions, CATEGORIES } from './common.js';

export async function render(params, ctx) {
  const status = params.query.get('status') || '';
  const [p, data] = await Promise.all([places(ctx.api), ctx.api.get('/deviations', { status, limit: 500 })]);
  const me = ctx.me();
  const orgs = ctx.isAdmin() ? [...p.organisations.values()] : [...p.organisations.values()].filter((o) => (me.organisations || []).includes(o.id));
  const filter = field(t('deviations.status_filter'), { tag: 'select', name: 'status', value: status, options: [{ value: '', label: t('deviations.all') }].concat(enumOptions('deviation_status', ['open', 'handled'])) });
  const filterForm = el('form', { class: 'filters', 'aria-label': t('deviations.filter_label') },
    el('div', { class: 'filter-grid' }, filter.wrap),
    el('div', { class: 'actions' }, button(t('common.show'), { type: 'submit', kind: 'primary', icon: 'search' })));
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(filter.input.value ? `#/deviations?status=${filter.input.value}` : '#/deviations');
  });
  const rows = data.rows || [];
  return el('div', {},
    h1(t('deviations.title')),
    filterForm,
    el('p', { class: 'result-count', role: 'status' }, t('deviations.count', { count: rows.length })),
    rows.length ? el('ul', { class: 'card-list' }, rows.map((d) => deviationCard(ctx, p, d))) : emptyNote(status ? t('deviations.none_with_status') : t('deviations.empty')),
    logForm(ctx, orgs));
}

function deviationCard(ctx, p, d) {
  const titleId = `dev-${d.id}`;
  const parts = [
    el('h2', { id: titleId, class: 'card-title' }, enumText('category', d.category)),
    el('p', { class: 'state-line' }, statusBadge('deviation_status', d.status), el('span', {}, orgName(p, d.organisation)),
      d.occasion ? el('a', { href: `#/occasion/${encodeURIComponent(d.occasion)}` }, t('deviations.occasion_link')) : null),
    el('p', { class: 'prewrap' }, d.description),
  ];
  if (d.action_taken) parts.push(el('p', {}, el('strong', {}, t('deviations.action_taken')), ' ', d.action_taken));
  if (d.status === 'open') {
    const action = field(t('deviations.action_label'), { tag: 'textarea', name: 'action_taken', rows: 3, required: true });
    const box = errorBox();
    const save = button(t('deviations.handle'), { type: 'submit', kind: 'primary', icon: 'check', key: `handle-${d.id}` });
    const form = el('form', { novalidate: true, 'aria-labelledby': titleId }, action.wrap, box.node, el('div', { class: 'actions' }, save));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      action.setError(null); box.clear();
      if (!action.input.value.trim()) { action.setError(t('deviations.need_action')); box.show(t('error.form')); action.input.focus(); return; }
      busy(save, async () => {
        try {
          const res = await ctx.api.post('/deviations', {
            deviation: d.id, organisation: d.organisation, occasion: d.occasion || null, category: d.category,
            description: d.description, status: 'handled', action_taken: action.input.value.trim(),
          });
          ctx.announce(outcomeText(res));
          ctx.rerender(null);
        } catch (err) { showFormError(err, [action], box); }
      });
    });
    parts.push(el('details', { class: 'handle' }, el('summary', {}, t('deviations.handle_open')), form));
  }
  return el('li', { class: 'card', 'aria-labelledby': titleId }, parts);
}

function logForm(ctx, orgs) {
  if (!orgs.length) return null;
  const f = {
    organisation: field(t('deviations.organisation'), { tag: 'select', name: 'organisation', options: orgs.map((o) => ({ value: o.id, label: o.name })) }),
    category: field(t('deviations.category'), { tag: 'select', name: 'category', options: enumOptions('category', CATEGORIES) }),
    occasion: field(t('deviations.occasion'), { name: 'occasion', hint: t('deviations.occasion_hint'), autocomplete: 'off', spellcheck: 'false' }),
    description: field(t('deviations.description'), { tag: 'textarea', name: 'description', required: true }),
  };
  const all = Object.values(f);
  const box = errorBox();
  const save = button(t('deviations.log'), { type: 'submit', kind: 'primary', icon: 'plus', key: 'dev-log' });
  const form = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'dev-new' },
    el('h2', { id: 'dev-new' }, t('deviations.new_title')),
    el('div', { class: 'field-row' }, f.organisation.wrap, f.category.wrap), f.occasion.wrap, f.description.wrap,
    box.node, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of all) x.setError(null);
    box.clear();
    if (!f.description.input.value.trim()) { f.description.setError(t('deviations.need_description')); box.show(t('error.form')); f.description.input.focus(); return; }
    busy(save, async () => {
      try {
        const res = await ctx.api.post('/deviations', {
          organisation: f.organisation.input.value, category: f.category.input.value,
          occasion: f.occasion.input.value.trim() || null, description: f.description.input.value.trim(), status: 'open',
        });
        ctx.announce(outcomeText(res));
        ctx.rerender('dev-log');
      } catch (err) { showFormError(err, all, box); }
    });
  });
  return form;
}
