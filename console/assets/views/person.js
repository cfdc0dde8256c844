// A person: details (edit), participations (start/end month), enrolments, logins; admins
// download the person's data (export) and erase them with a typed confirmation.
import { t, fmtSpan, fmtMonth, fmtDateTime, enumText } from '../i18n.js';
import { el, h1, field, button, linkButton, errorBox, showFormError, busy, table, emptyNote, confirmDialog, dl } from '../ui.js';
import { places, siteName, orgName, outcomeText, backLink, statusBadge } from './common.js';
import { personFields, personBody } from './people.js';
import { apiUrl } from '../api.js';

export async function render(params, ctx) {
  const id = params.id;
  const [p, data] = await Promise.all([places(ctx.api), ctx.api.get(`/persons/${encodeURIComponent(id)}`)]);
  const person = data.person;
  const admin = ctx.isAdmin();
  const mySites = admin ? null : ctx.me().sites;
  const parts = [backLink(t('person.back'), '#/people'), h1(person.erased ? t('person.erased') : person.name)];
  parts.push(dl([
    [t('person.organisation'), orgName(p, person.organisation)],
    [t('person.site'), person.site ? siteName(p, person.site) : t('common.none')],
    [t('person.gender'), enumText('gender', person.gender)],
    [t('person.birth_year'), person.birth_year ? String(person.birth_year) : t('common.none')],
    [t('person.logins'), (data.users || []).length ? data.users.join(', ') : t('person.no_login')],
  ]));

  if (!person.erased) {
    const f = personFields(p, mySites, person);
    const all = Object.values(f);
    const box = errorBox();
    const save = button(t('person.save'), { type: 'submit', kind: 'primary', icon: 'check', key: 'person-save' });
    const form = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'person-edit' },
      el('h2', { id: 'person-edit' }, t('person.details')),
      f.name.wrap, f.site.wrap,
      f.profession.wrap, el('div', { class: 'field-row' }, f.education_level.wrap, f.employment_status.wrap),
      box.node, el('div', { class: 'actions' }, save));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      for (const x of all) x.setError(null);
      box.clear();
      if (!f.name.input.value.trim()) { f.name.setError(t('person.need_name')); box.show(t('error.form')); f.name.input.focus(); return; }
      busy(save, async () => {
        try {
          const res = await ctx.api.post(`/persons/${encodeURIComponent(id)}`, personBody(f, p));
          ctx.announce(outcomeText(res));
          ctx.rerender('person-save');
        } catch (err) { showFormError(err, all, box); }
      });
    });
    parts.push(form);
  }

  // Participations: the months the person takes part in the project (the ESF ledger's rows).
  const parts2 = data.participations || [];
  parts.push(el('h2', {}, t('person.participations')));
  parts.push(parts2.length ? table(t('person.participations_caption'), [
    { label: t('person.start_month'), cell: (r) => fmtMonth(r.start_month) },
    { label: t('person.end_month'), cell: (r) => (r.end_month ? fmtMonth(r.end_month) : t('person.ongoing')) },
    { label: t('person.change'), cell: (r) => participationForm(ctx, id, r) },
  ], parts2) : emptyNote(t('person.no_participations')));
  if (!person.erased) parts.push(el('h3', {}, t('person.new_participation')), participationForm(ctx, id, null));

  const enr = data.enrolments || [];
  parts.push(el('h2', {}, t('person.enrolments')));
  parts.push(enr.length ? table(t('person.enrolments_caption'), [
    { label: t('occasions.course'), cell: (r) => el('a', { href: `#/occasion/${encodeURIComponent(r.occasion)}` }, r.course_title || r.occasion) },
    { label: t('occasion.when'), cell: (r) => (!r.starts_at ? t('common.none') : (r.ends_at ? fmtSpan(r.starts_at, r.ends_at) : fmtDateTime(r.starts_at))) },
    { label: t('roster.status'), cell: (r) => statusBadge('enrolment_status', r.status) },
  ], enr) : emptyNote(t('person.no_enrolments')));

  if (admin) {
    parts.push(el('h2', {}, t('person.data_title')));
    parts.push(el('p', {}, t('person.export_text')));
    parts.push(el('div', { class: 'actions' }, linkButton(t('person.export'), apiUrl(`/persons/${encodeURIComponent(id)}/export`), { icon: 'download', download: `person-${id}.json` })));
    if (!person.erased) {
      const box = errorBox();
      const erase = button(t('person.erase'), { kind: 'danger', icon: 'trash', key: 'erase' });
      erase.addEventListener('click', async () => {
        const yes = await confirmDialog({ title: t('person.erase_title'), text: t('person.erase_text', { name: person.name }), confirmLabel: t('person.erase_confirm'), typed: id, typedLabel: t('person.erase_type', { id }), danger: true });
        if (!yes) return;
        busy(erase, async () => {
          try {
            await ctx.api.post(`/persons/${encodeURIComponent(id)}/erase`, { confirm: id });
            ctx.announce(t('person.erased_done'));
            ctx.navigate('#/people');
          } catch (err) { box.show(err); }
        });
      });
      parts.push(el('p', {}, t('person.erase_explain')), box.node, el('div', { class: 'actions danger-zone' }, erase));
    }
  }
  return el('div', {}, parts);
}

// Start and end month of one participation (new when r is null).
function participationForm(ctx, person, r) {
  const start = field(t('person.start_month'), { type: 'month', name: 'start_month', value: r ? r.start_month : '', required: true, hint: r ? null : t('person.month_hint') });
  const end = field(t('person.end_month'), { type: 'month', name: 'end_month', value: r && r.end_month ? r.end_month : '' });
  const box = errorBox();
  const key = r ? `part-${r.id}` : 'part-new';
  const save = button(r ? t('person.save_participation') : t('person.add_participation'), { type: 'submit', kind: r ? 'secondary' : 'primary', key });
  const form = el('form', { class: r ? 'inline-form' : 'form-card', novalidate: true }, el('div', { class: 'field-row' }, start.wrap, end.wrap), box.node, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    start.setError(null); end.setError(null); box.clear();
    const month = /^\d{4}-\d{2}$/;
    if (!month.test(start.input.value)) { start.setError(t('person.need_month')); box.show(t('error.form')); start.input.focus(); return; }
    if (end.input.value && (!month.test(end.input.value) || end.input.value < start.input.value)) {
      end.setError(t('person.end_before_start')); box.show(t('error.form')); end.input.focus(); return;
    }
    const body = { person, start_month: start.input.value, end_month: end.input.value || null };
    if (r) body.participation = r.id;
    busy(save, async () => {
      try {
        const res = await ctx.api.post('/participations', body);
        ctx.announce(outcomeText(res));
        ctx.rerender(key);
      } catch (err) { showFormError(err, [start, end], box); }
    });
  });
  return form;
}
