// Coordinator: log a new deviation.
import { t, fmtDay, fmtTime } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';

const CATEGORIES = ['cancelled_session', 'technical', 'attendance', 'content', 'accessibility', 'other'];

export async function render(params, ctx) {
  const [{ sites }, occ] = await Promise.all([ctx.api.get('/api/sites'), ctx.api.get('/api/occasions')]);
  const orgs = new Map();
  for (const s of sites) orgs.set(s.organisation, s.organisation_name || s.organisation);
  const err = errorBox();
  const org = field(t('deviation.organisation'), { tag: 'select', required: true,
    options: [...(orgs.size > 1 ? [{ value: '', label: t('walkin.choose') }] : []), ...[...orgs].map(([id, name]) => ({ value: id, label: name }))] });
  const cat = field(t('deviation.category'), { tag: 'select', required: true,
    options: [{ value: '', label: t('walkin.choose') }, ...CATEGORIES.map((c) => ({ value: c, label: t(`category.${c}`) }))] });
  const desc = field(t('deviation.description'), { tag: 'textarea', required: true, hint: t('deviation.description_hint'), maxlength: 5000 });
  const preset = params.query.get('occasion') || '';
  const occOptions = [{ value: '', label: t('deviation.no_occasion') }];
  for (const d of occ.days) for (const o of d.occasions) occOptions.push({ value: o.id, label: `${fmtDay(d.date)} ${fmtTime(o.starts_at)} – ${o.course_title}` });
  const occasion = field(t('deviation.occasion'), { tag: 'select', options: occOptions, value: preset });
  const submitBtn = button(t('deviation.save'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!org.input.value) { err.show(t('deviation.organisation_empty')); org.input.focus(); return; }
    if (!cat.input.value) { err.show(t('deviation.category_empty')); cat.input.focus(); return; }
    if (!desc.input.value.trim()) { err.show(t('deviation.description_empty')); desc.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/deviation', { organisation: org.input.value, category: cat.input.value,
          description: desc.input.value.trim(), occasion: occasion.input.value || null });
        ctx.announce(t('deviation.saved'));
        await ctx.refreshStatus();
        ctx.navigate('#/deviations');
      } catch (ex) { err.show(ex); }
    });
  }
  return el('div', { class: 'screen screen-deviation-new' },
    h1(t('deviation.new_title')),
    el('form', { onsubmit: submit, novalidate: true }, org.wrap, cat.wrap, desc.wrap, occasion.wrap, err.node,
      el('div', { class: 'actions' }, submitBtn, linkButton(t('deviation.back'), '#/deviations', { icon: 'back' }))));
}
