// The form for an occasion's schedule (create on the course page, edit on the occasion page).
// Dates and times are Europe/Stockholm wall time; the API gets UTC ISO instants.
import { t, stockholmToIso, isoToStockholm } from '../i18n.js';
import { el, field, button, errorBox, showFormError, busy } from '../ui.js';
import { siteOptions } from './common.js';

// Returns the form node; onSaved(res) after the server accepted it.
export function occasionForm(ctx, p, { course, occasion, onSaved }) {
  const o = occasion || {};
  const start = isoToStockholm(o.starts_at);
  const end = isoToStockholm(o.ends_at);
  const opens = isoToStockholm(o.enrolment_opens);
  const closes = isoToStockholm(o.enrolment_closes);
  const survey = isoToStockholm(o.survey_closes);
  const f = {
    day: field(t('occasion.day'), { type: 'date', value: start.day, required: true, name: 'starts_at' }),
    start: field(t('occasion.start_time'), { type: 'time', value: start.time, required: true }),
    end: field(t('occasion.end_time'), { type: 'time', value: end.time, required: true, name: 'ends_at' }),
    site: field(t('occasion.site'), { tag: 'select', name: 'site', value: o.site || '', options: [{ value: '', label: t('occasion.online_no_site') }].concat(siteOptions(p)) }),
    link: field(t('occasion.online_link'), { type: 'url', name: 'online_link', value: o.online_link || '', hint: t('occasion.online_link_hint') }),
    capacity: field(t('occasion.capacity'), { type: 'number', name: 'capacity', min: 0, value: o.capacity === undefined ? 20 : o.capacity, required: true, inputmode: 'numeric' }),
    opensDay: field(t('occasion.opens_day'), { type: 'date', value: opens.day, name: 'enrolment_opens', hint: t('occasion.opens_hint') }),
    opensTime: field(t('occasion.opens_time'), { type: 'time', value: opens.time || '00:00' }),
    closesDay: field(t('occasion.closes_day'), { type: 'date', value: closes.day, required: true, name: 'enrolment_closes' }),
    closesTime: field(t('occasion.closes_time'), { type: 'time', value: closes.time || '23:59', required: true }),
    surveyDay: field(t('occasion.survey_day'), { type: 'date', value: survey.day, name: 'survey_closes', hint: t('occasion.survey_hint') }),
  };
  const all = Object.values(f);
  const box = errorBox();
  const save = button(occasion ? t('occasion.save') : t('occasion.create'), { type: 'submit', kind: 'primary', icon: 'check', key: 'occasion-save' });
  const form = el('form', { class: 'form-card', novalidate: true },
    el('fieldset', {}, el('legend', {}, t('occasion.when')),
      el('div', { class: 'field-row' }, f.day.wrap, f.start.wrap, f.end.wrap)),
    el('fieldset', {}, el('legend', {}, t('occasion.where')), f.site.wrap, f.link.wrap),
    f.capacity.wrap,
    el('fieldset', {}, el('legend', {}, t('occasion.enrolment_window')),
      el('div', { class: 'field-row' }, f.opensDay.wrap, f.opensTime.wrap),
      el('div', { class: 'field-row' }, f.closesDay.wrap, f.closesTime.wrap)),
    f.surveyDay.wrap,
    box.node,
    el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of all) x.setError(null);
    box.clear();
    const startsAt = stockholmToIso(f.day.input.value, f.start.input.value);
    const endsAt = stockholmToIso(f.day.input.value, f.end.input.value);
    const closesAt = stockholmToIso(f.closesDay.input.value, f.closesTime.input.value);
    const problems = [];
    if (!startsAt) problems.push([f.day, t('occasion.need_start')]);
    if (!endsAt) problems.push([f.end, t('occasion.need_end')]);
    else if (startsAt && endsAt <= startsAt) problems.push([f.end, t('occasion.end_before_start')]);
    if (!closesAt) problems.push([f.closesDay, t('occasion.need_closes')]);
    const cap = Number(f.capacity.input.value);
    if (!Number.isInteger(cap) || cap < 0 || f.capacity.input.value === '') problems.push([f.capacity, t('occasion.need_capacity')]);
    if (problems.length) {
      for (const [fld, text] of problems) fld.setError(text);
      box.show(t('error.form'));
      problems[0][0].input.focus();
      return;
    }
    const body = {
      course,
      starts_at: startsAt,
      ends_at: endsAt,
      site: f.site.input.value || null,
      online_link: f.link.input.value.trim() || null,
      capacity: cap,
      enrolment_opens: f.opensDay.input.value ? stockholmToIso(f.opensDay.input.value, f.opensTime.input.value || '00:00') : null,
      enrolment_closes: closesAt,
      survey_closes: f.surveyDay.input.value ? stockholmToIso(f.surveyDay.input.value, '23:59') : null,
    };
    busy(save, async () => {
      try {
        const res = occasion ? await ctx.api.post(`/occasions/${encodeURIComponent(occasion.id)}`, body)
          : await ctx.api.post('/occasions', body);
        await onSaved(res);
      } catch (err) {
        showFormError(err, all, box);
      }
    });
  });
  return form;
}
