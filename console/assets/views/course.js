// A course (admins): create or edit it (title, description, theme, format, provider, duration,
// target organisations, published) and its occasions: the schedule and a new occasion.
import { t, enumText, fmtSpan, fmtNumber } from '../i18n.js';
import { el, h1, field, checkbox, button, errorBox, showFormError, busy, table, emptyNote, badge } from '../ui.js';
import { places, siteName, outcomeText, backLink, enumOptions, FORMATS, statusBadge } from './common.js';
import { occasionForm } from './occasion_form.js';

export async function render(params, ctx) {
  const creating = !params.id;
  const [p, data] = await Promise.all([
    places(ctx.api),
    creating ? Promise.resolve({ course: null, occasions: [] }) : ctx.api.get(`/courses/${encodeURIComponent(params.id)}`),
  ]);
  const c = data.course || { organisations: [], published: false, format: 'on_site' };
  const f = {
    title: field(t('course.title_label'), { name: 'title', value: c.title || '', required: true, maxlength: 200 }),
    description: field(t('course.description'), { tag: 'textarea', name: 'description', value: c.description || '' }),
    theme: field(t('course.theme'), { name: 'theme', value: c.theme || '', hint: t('course.theme_hint') }),
    format: field(t('course.format'), { tag: 'select', name: 'format', value: c.format, options: enumOptions('format', FORMATS) }),
    provider: field(t('course.provider'), { name: 'provider', value: c.provider || '' }),
    duration: field(t('course.duration'), { type: 'number', name: 'duration_minutes', min: 0, inputmode: 'numeric', value: c.duration_minutes === null || c.duration_minutes === undefined ? '' : c.duration_minutes }),
  };
  const orgChecks = [...p.organisations.values()].map((o) => ({ id: o.id, box: checkbox(o.name, { checked: (c.organisations || []).includes(o.id), value: o.id }) }));
  const published = checkbox(t('course.published_check'), { checked: c.published });
  const all = Object.values(f);
  const box = errorBox();
  const save = button(creating ? t('course.create') : t('course.save'), { type: 'submit', kind: 'primary', icon: 'check', key: 'course-save' });
  const form = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'course-form-title' },
    el('h2', { id: 'course-form-title' }, t('course.details')),
    f.title.wrap, f.description.wrap, el('div', { class: 'field-row' }, f.theme.wrap, f.format.wrap),
    el('div', { class: 'field-row' }, f.provider.wrap, f.duration.wrap),
    el('fieldset', {}, el('legend', {}, t('course.organisations')),
      el('p', { class: 'hint' }, t('course.organisations_hint')),
      orgChecks.length ? orgChecks.map((o) => o.box.wrap) : el('p', {}, t('course.no_organisations'))),
    published.wrap,
    box.node,
    el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of all) x.setError(null);
    box.clear();
    if (!f.title.input.value.trim()) {
      f.title.setError(t('course.need_title'));
      box.show(t('error.form'));
      f.title.input.focus();
      return;
    }
    const body = {
      title: f.title.input.value.trim(),
      description: f.description.input.value.trim() || null,
      theme: f.theme.input.value.trim() || null,
      format: f.format.input.value,
      provider: f.provider.input.value.trim() || null,
      duration_minutes: f.duration.input.value === '' ? null : Number(f.duration.input.value),
      organisations: orgChecks.filter((o) => o.box.input.checked).map((o) => o.id),
      published: published.input.checked,
    };
    busy(save, async () => {
      try {
        const res = creating ? await ctx.api.post('/courses', body) : await ctx.api.post(`/courses/${encodeURIComponent(c.id)}`, body);
        ctx.announce(outcomeText(res));
        if (creating) ctx.navigate(`#/course/${encodeURIComponent(res.id)}`);
        else ctx.rerender('course-save');
      } catch (err) {
        showFormError(err, all, box);
      }
    });
  });

  const parts = [
    backLink(t('course.back'), '#/catalogue'),
    h1(creating ? t('course.new_title') : c.title),
  ];
  if (!creating) {
    parts.push(el('p', {}, c.published ? badge(t('course.published'), 'ok', 'check') : badge(t('course.unpublished'), 'warn', 'lock'),
      ' ', enumText('format', c.format)));
  }
  parts.push(form);
  if (!creating) {
    const occ = data.occasions || [];
    parts.push(el('h2', {}, t('course.occasions')));
    parts.push(occ.length ? table(t('course.occasions_caption', { course: c.title }), [
      { label: t('occasion.when'), cell: (o) => el('a', { href: `#/occasion/${encodeURIComponent(o.id)}` }, fmtSpan(o.starts_at, o.ends_at)) },
      { label: t('occasion.site'), cell: (o) => siteName(p, o.site) },
      { label: t('occasion.places'), cell: (o) => t('occasion.places_text', { confirmed: fmtNumber(o.confirmed || 0), capacity: fmtNumber(o.capacity) }) },
      { label: t('occasion.waitlisted'), cell: (o) => fmtNumber(o.waitlisted || 0), num: true },
      { label: t('occasion.status'), cell: (o) => statusBadge('occasion_status', o.status) },
    ], occ) : emptyNote(t('course.no_occasions')));
    parts.push(el('h2', { id: 'new-occasion' }, t('course.new_occasion')));
    parts.push(occasionForm(ctx, p, {
      course: c.id,
      onSaved: async (res) => { ctx.announce(outcomeText(res)); ctx.rerender('occasion-save'); },
    }));
  }
  return el('div', {}, parts);
}
