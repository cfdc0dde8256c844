// People: organisations and sites (admins create them), persons (search, filter by site, add).
import { t, enumText } from '../i18n.js';
import { el, h1, field, button, errorBox, showFormError, busy, table, emptyNote } from '../ui.js';
import { places, siteName, orgName, siteOptions, outcomeText, enumOptions, GENDERS, EDUCATION, EMPLOYMENT } from './common.js';

export async function render(params, ctx) {
  const me = ctx.me();
  const admin = ctx.isAdmin();
  const q = params.query.get('q') || '';
  const site = params.query.get('site') || '';
  const [p, persons] = await Promise.all([places(ctx.api), ctx.api.get('/persons', { q, site, limit: 200 })]);
  const mySites = admin ? null : me.sites;

  const search = field(t('people.search'), { type: 'search', name: 'q', value: q });
  const siteSel = field(t('people.site_filter'), { tag: 'select', name: 'site', value: site, options: [{ value: '', label: t('occasions.all_sites') }].concat(siteOptions(p, mySites)) });
  const filter = el('form', { class: 'filters', role: 'search', 'aria-label': t('people.search_label') },
    el('div', { class: 'filter-grid' }, search.wrap, siteSel.wrap),
    el('div', { class: 'actions' }, button(t('common.search'), { type: 'submit', kind: 'primary', icon: 'search' })));
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    const qs = new URLSearchParams();
    if (search.input.value.trim()) qs.set('q', search.input.value.trim());
    if (siteSel.input.value) qs.set('site', siteSel.input.value);
    ctx.navigate(`#/people${qs.toString() ? `?${qs}` : ''}`);
  });
  const rows = persons.rows || [];
  const parts = [
    h1(t('people.title')),
    el('h2', {}, t('people.persons')),
    filter,
    el('p', { class: 'result-count', role: 'status' }, t('people.count', { count: persons.total === undefined ? rows.length : persons.total }),
      persons.total > rows.length ? ` ${t('people.showing', { shown: rows.length })}` : null),
    rows.length ? table(t('people.caption'), [
      { label: t('person.name'), cell: (r) => el('a', { href: `#/person/${encodeURIComponent(r.id)}` }, r.erased ? t('person.erased') : r.name) },
      { label: t('person.organisation'), cell: (r) => orgName(p, r.organisation) },
      { label: t('person.site'), cell: (r) => (r.site ? siteName(p, r.site) : t('common.none')) },
      { label: t('person.gender'), cell: (r) => enumText('gender', r.gender) },
      { label: t('person.birth_year'), cell: (r) => (r.birth_year ? String(r.birth_year) : t('common.none')), num: true },
    ], rows) : emptyNote(q || site ? t('people.none_found') : t('people.empty')),
    addPersonForm(ctx, p, mySites),
  ];
  if (admin) parts.push(placesSection(ctx, p));
  return el('div', {}, parts);
}

// The form's fields; editing (an existing person) leaves out gender and birth year, which the
// import or the person's own record owns (update_person does not change them).
export function personFields(p, mySites, person) {
  const r = person || {};
  const f = {
    name: field(t('person.name'), { name: 'name', value: r.name || '', required: true, autocomplete: 'off' }),
    site: field(t('person.site'), { tag: 'select', name: 'site', value: r.site || '', required: true, options: siteOptions(p, mySites) }),
    gender: field(t('person.gender'), { tag: 'select', name: 'gender', value: r.gender || 'undisclosed', options: enumOptions('gender', GENDERS) }),
    birth_year: field(t('person.birth_year'), { type: 'number', name: 'birth_year', min: 1900, max: 2100, inputmode: 'numeric', value: r.birth_year || '' }),
    profession: field(t('person.profession'), { name: 'profession', value: r.profession || '' }),
    education_level: field(t('person.education'), { tag: 'select', name: 'education_level', value: r.education_level || '', options: enumOptions('education', EDUCATION, true) }),
    employment_status: field(t('person.employment'), { tag: 'select', name: 'employment_status', value: r.employment_status || '', options: enumOptions('employment', EMPLOYMENT, true) }),
  };
  if (person) { delete f.gender; delete f.birth_year; }
  return f;
}
// The body of add_person (new) or update_person (existing: only the fields it changes).
export function personBody(f, p) {
  const site = f.site.input.value;
  const body = {
    name: f.name.input.value.trim(),
    site,
    profession: f.profession.input.value.trim() || null,
    education_level: f.education_level.input.value || null,
    employment_status: f.employment_status.input.value || null,
  };
  if (f.gender) {
    const s = p.sites.get(site);
    if (s) body.organisation = s.organisation;
    body.gender = f.gender.input.value;
    body.birth_year = f.birth_year.input.value === '' ? null : Number(f.birth_year.input.value);
  }
  return body;
}

function addPersonForm(ctx, p, mySites) {
  const f = personFields(p, mySites, null);
  const all = Object.values(f);
  const box = errorBox();
  const save = button(t('people.add'), { type: 'submit', kind: 'primary', icon: 'plus', key: 'person-add' });
  const form = el('form', { class: 'form-card', novalidate: true },
    f.name.wrap, el('div', { class: 'field-row' }, f.site.wrap, f.gender.wrap, f.birth_year.wrap),
    f.profession.wrap, el('div', { class: 'field-row' }, f.education_level.wrap, f.employment_status.wrap),
    box.node, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of all) x.setError(null);
    box.clear();
    if (!f.name.input.value.trim()) { f.name.setError(t('person.need_name')); box.show(t('error.form')); f.name.input.focus(); return; }
    if (!f.site.input.value) { f.site.setError(t('person.need_site')); box.show(t('error.form')); f.site.input.focus(); return; }
    busy(save, async () => {
      try {
        const res = await ctx.api.post('/persons', personBody(f, p));
        ctx.announce(outcomeText(res));
        ctx.navigate(`#/person/${encodeURIComponent(res.id)}`);
      } catch (err) { showFormError(err, all, box); }
    });
  });
  return el('section', { 'aria-labelledby': 'add-person' }, el('h2', { id: 'add-person' }, t('people.add_title')), form);
}

// Organisations and their sites, with forms to add each (admins).
function placesSection(ctx, p) {
  const orgs = [...p.organisations.values()];
  const sites = [...p.sites.values()];
  const org = {
    id: field(t('places.org_code'), { name: 'organisation', required: true, hint: t('places.org_code_hint'), autocomplete: 'off', spellcheck: 'false' }),
    name: field(t('places.org_name'), { name: 'name', required: true }),
    county: field(t('places.county'), { name: 'county', required: true }),
  };
  const orgBox = errorBox();
  const orgSave = button(t('places.add_org'), { type: 'submit', kind: 'primary', icon: 'plus', key: 'org-add' });
  const orgForm = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'add-org' },
    el('h3', { id: 'add-org' }, t('places.add_org_title')),
    el('div', { class: 'field-row' }, org.id.wrap, org.name.wrap, org.county.wrap), orgBox.node, el('div', { class: 'actions' }, orgSave));
  orgForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const fields = Object.values(org);
    for (const x of fields) x.setError(null);
    const missing = fields.find((x) => !x.input.value.trim());
    if (missing) { missing.setError(t('places.need_value')); orgBox.show(t('error.form')); missing.input.focus(); return; }
    busy(orgSave, async () => {
      try {
        const res = await ctx.api.post('/organisations', { id: org.id.input.value.trim(), name: org.name.input.value.trim(), county: org.county.input.value.trim() });
        ctx.announce(outcomeText(res));
        ctx.rerender('org-add');
      } catch (err) { showFormError(err, fields, orgBox); }
    });
  });
  const site = {
    organisation: field(t('places.site_org'), { tag: 'select', name: 'organisation', required: true, options: orgs.map((o) => ({ value: o.id, label: o.name })) }),
    name: field(t('places.site_name'), { name: 'name', required: true }),
  };
  const siteBox = errorBox();
  const siteSave = button(t('places.add_site'), { type: 'submit', kind: 'primary', icon: 'plus', key: 'site-add' });
  const siteForm = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'add-site' },
    el('h3', { id: 'add-site' }, t('places.add_site_title')),
    el('div', { class: 'field-row' }, site.organisation.wrap, site.name.wrap), siteBox.node, el('div', { class: 'actions' }, siteSave));
  siteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const fields = Object.values(site);
    for (const x of fields) x.setError(null);
    if (!site.name.input.value.trim()) { site.name.setError(t('places.need_value')); siteBox.show(t('error.form')); site.name.input.focus(); return; }
    busy(siteSave, async () => {
      try {
        const res = await ctx.api.post('/sites', { organisation: site.organisation.input.value, name: site.name.input.value.trim() });
        ctx.announce(outcomeText(res));
        ctx.rerender('site-add');
      } catch (err) { showFormError(err, fields, siteBox); }
    });
  });
  return el('section', { 'aria-labelledby': 'places-title' },
    el('h2', { id: 'places-title' }, t('places.title')),
    orgs.length ? table(t('places.caption'), [
      { label: t('places.org_name'), cell: (o) => o.name },
      { label: t('places.org_code'), cell: (o) => o.id },
      { label: t('places.county'), cell: (o) => o.county || t('common.none') },
      { label: t('places.sites'), cell: (o) => sites.filter((s) => s.organisation === o.id).map((s) => s.name).join(', ') || t('common.none') },
    ], orgs) : emptyNote(t('places.empty')),
    orgForm, orgs.length ? siteForm : null);
}
