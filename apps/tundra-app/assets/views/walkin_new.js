// Coordinator: a walk-in who is not in the register yet: name, site, gender, birth year.
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';

const GENDERS = ['woman', 'man', 'non_binary', 'undisclosed'];

export async function render(params, ctx) {
  const [{ occasion: o }, { sites }] = await Promise.all([
    ctx.api.get(`/api/roster?occasion=${encodeURIComponent(params.occasion)}`),
    ctx.api.get('/api/sites')]);
  const err = errorBox();
  const name = field(t('walkin.name'), { autocomplete: 'off', required: true, maxlength: 200 });
  const site = field(t('walkin.site'), { tag: 'select', required: true,
    options: [{ value: '', label: t('walkin.choose') }, ...sites.map((s) => ({ value: s.id, label: s.organisation_name ? `${s.name} (${s.organisation_name})` : s.name }))],
    value: sites.length === 1 ? sites[0].id : '' });
  const gender = el('fieldset', { class: 'choice-group' }, el('legend', {}, t('walkin.gender')),
    ...GENDERS.map((g) => el('div', { class: 'choice' },
      el('input', { type: 'radio', name: 'gender', id: `gender-${g}`, value: g, checked: g === 'undisclosed' }),
      el('label', { for: `gender-${g}` }, t(`gender.${g}`)))));
  const year = field(t('walkin.birth_year'), { type: 'number', inputmode: 'numeric', min: 1900, max: new Date().getFullYear(), hint: t('walkin.birth_year_hint') });
  const submitBtn = button(t('walkin.save_new'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    if (!name.input.value.trim()) { err.show(t('walkin.name_empty')); name.input.focus(); return; }
    if (!site.input.value) { err.show(t('walkin.site_empty')); site.input.focus(); return; }
    const y = year.input.value ? Number(year.input.value) : null;
    if (y !== null && (!Number.isInteger(y) || y < 1900 || y > new Date().getFullYear())) { err.show(t('walkin.bad_year')); year.input.focus(); return; }
    const g = document.querySelector('input[name="gender"]:checked');
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/walk-in', { occasion: o.id, name: name.input.value.trim(), site: site.input.value,
          gender: g ? g.value : 'undisclosed', birth_year: y });
        ctx.announce(t('walkin.saved', { name: name.input.value.trim() }));
        await ctx.refreshStatus();
        ctx.navigate(`#/roster/${encodeURIComponent(o.id)}`);
      } catch (ex) { err.show(ex); }
    });
  }
  return el('div', { class: 'screen screen-walkin-new' },
    h1(t('walkin.new_title')),
    el('p', { class: 'lead' }, t('walkin.new_lead', { title: o.course_title })),
    el('form', { onsubmit: submit, novalidate: true }, name.wrap, site.wrap, gender, year.wrap, err.node,
      el('div', { class: 'actions' }, submitBtn,
        linkButton(t('roster.back_roster'), `#/roster/${encodeURIComponent(o.id)}`, { icon: 'back' }))));
}
