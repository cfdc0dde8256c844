// Users (admins): the logins, create one (role, person, sites, password), set a password,
// revoke a login (its devices are wiped on their next contact).
import { t, fmtDateTime, fmtAgo } from '../i18n.js';
import { el, h1, field, checkbox, button, errorBox, showFormError, busy, table, emptyNote, badge, confirmDialog } from '../ui.js';
import { places, siteName } from './common.js';

const ROLES = ['participant', 'coordinator', 'admin'];

export async function render(params, ctx) {
  const [p, users, persons] = await Promise.all([places(ctx.api), ctx.api.get('/users'), ctx.api.get('/persons', { limit: 500 })]);
  const rows = users.rows || [];
  const names = new Map((persons.rows || []).map((r) => [r.id, r.name]));
  const box = errorBox();

  function revokeButton(u) {
    if (u.revoked) return badge(t('users.revoked'), 'bad', 'lock');
    const b = button(t('users.revoke'), { kind: 'danger', key: `revoke-${u.username}` });
    b.querySelector('.btn-text').appendChild(el('span', { class: 'visually-hidden' }, ` ${u.username}`));
    b.addEventListener('click', async () => {
      const yes = await confirmDialog({ title: t('users.revoke_title'), text: t('users.revoke_text', { user: u.username }), confirmLabel: t('users.revoke_confirm'), danger: true });
      if (!yes) return;
      busy(b, async () => {
        try {
          const res = await ctx.api.post(`/users/${encodeURIComponent(u.username)}/revoke`, {});
          ctx.announce(t('users.revoked_done', { user: u.username, devices: res.devices_revoked || 0 }));
          ctx.rerender(null);
        } catch (err) { box.show(err); }
      });
    });
    return b;
  }

  return el('div', {},
    h1(t('users.title')),
    box.node,
    rows.length ? table(t('users.caption'), [
      { label: t('users.username'), cell: (u) => u.username },
      { label: t('users.role'), cell: (u) => t(`role.${u.role}`) },
      { label: t('users.person'), cell: (u) => (u.person ? el('a', { href: `#/person/${encodeURIComponent(u.person)}` }, names.get(u.person) || u.person) : t('common.none')) },
      { label: t('users.sites'), cell: (u) => ((u.sites || []).length ? u.sites.map((s) => siteName(p, s)).join(', ') : t('common.none')) },
      { label: t('users.devices'), cell: (u) => String(u.devices || 0), num: true },
      { label: t('users.last_seen'), cell: (u) => (u.last_seen_ms ? `${fmtDateTime(u.last_seen_ms)} (${fmtAgo(u.last_seen_ms)})` : t('users.never')) },
      { label: t('users.access'), cell: revokeButton },
    ], rows) : emptyNote(t('users.empty')),
    createForm(ctx, p, persons.rows || []),
    passwordForm(ctx, rows.filter((u) => !u.revoked)));
}

function createForm(ctx, p, persons) {
  const f = {
    username: field(t('users.username'), { name: 'username', required: true, autocomplete: 'off', spellcheck: 'false' }),
    role: field(t('users.role'), { tag: 'select', name: 'role', value: 'coordinator', options: ROLES.map((r) => ({ value: r, label: t(`role.${r}`) })) }),
    person: field(t('users.person'), { tag: 'select', name: 'person', options: [{ value: '', label: t('common.none') }].concat(persons.filter((r) => !r.erased).map((r) => ({ value: r.id, label: r.name }))), hint: t('users.person_hint') }),
    password: field(t('users.password'), { type: 'password', name: 'password', required: true, minlength: 8, hint: t('users.password_hint') }),
  };
  const siteChecks = [...p.sites.values()].map((s) => ({ id: s.id, box: checkbox(siteName(p, s.id), { value: s.id }) }));
  const sitesErr = el('p', { class: 'field-error', id: 'user-sites-err', hidden: true });
  const sitesSet = el('fieldset', {}, el('legend', {}, t('users.sites')), el('p', { class: 'hint', id: 'user-sites-hint' }, t('users.sites_hint')),
    sitesErr, siteChecks.length ? siteChecks.map((s) => s.box.wrap) : el('p', {}, t('common.none')));
  // The sites as a field for showFormError: its error is said on the group.
  const sitesField = {
    name: 'sites',
    wrap: sitesSet,
    input: siteChecks.length ? siteChecks[0].box.input : sitesSet,
    setError(text) {
      sitesErr.textContent = text || '';
      sitesErr.hidden = !text;
      sitesSet.setAttribute('aria-describedby', text ? 'user-sites-hint user-sites-err' : 'user-sites-hint');
    },
  };
  const all = Object.values(f);
  const box = errorBox();
  const save = button(t('users.create'), { type: 'submit', kind: 'primary', icon: 'plus', key: 'user-create' });
  const form = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'user-new' },
    el('h2', { id: 'user-new' }, t('users.new_title')),
    el('div', { class: 'field-row' }, f.username.wrap, f.role.wrap), f.person.wrap,
    sitesSet,
    f.password.wrap, box.node, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const x of all.concat([sitesField])) x.setError(null);
    box.clear();
    const role = f.role.input.value;
    const chosen = siteChecks.filter((s) => s.box.input.checked).length;
    const problems = [];
    if (!f.username.input.value.trim()) problems.push([f.username, t('users.need_username')]);
    if (role === 'participant' && !f.person.input.value) problems.push([f.person, t('users.participant_needs_person')]);
    if (role === 'participant' && chosen) problems.push([sitesField, t('users.participant_no_sites')]);
    if (role === 'coordinator' && !chosen) problems.push([sitesField, t('users.coordinator_needs_site')]);
    if (f.password.input.value.length < 8) problems.push([f.password, t('users.password_short')]);
    if (problems.length) {
      for (const [fld, text] of problems) fld.setError(text);
      box.show(t('error.form'));
      problems[0][0].input.focus();
      return;
    }
    const body = {
      username: f.username.input.value.trim(),
      role: f.role.input.value,
      password: f.password.input.value,
      sites: siteChecks.filter((s) => s.box.input.checked).map((s) => s.id),
    };
    if (f.person.input.value) body.person = f.person.input.value;
    busy(save, async () => {
      try {
        await ctx.api.post('/users', body);
        ctx.announce(t('users.created', { user: body.username }));
        ctx.rerender('user-create');
      } catch (err) { showFormError(err, all.concat([sitesField]), box); }
    });
  });
  return form;
}

function passwordForm(ctx, users) {
  if (!users.length) return null;
  const who = field(t('users.username'), { tag: 'select', name: 'username', options: users.map((u) => ({ value: u.username, label: u.username })) });
  const pw = field(t('users.new_password'), { type: 'password', name: 'password', required: true, minlength: 8, hint: t('users.password_hint') });
  const box = errorBox();
  const save = button(t('users.set_password'), { type: 'submit', kind: 'primary', icon: 'key', key: 'set-password' });
  const form = el('form', { class: 'form-card', novalidate: true, 'aria-labelledby': 'user-pw' },
    el('h2', { id: 'user-pw' }, t('users.password_title')),
    el('div', { class: 'field-row' }, who.wrap, pw.wrap), box.node, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    pw.setError(null); box.clear();
    if (pw.input.value.length < 8) { pw.setError(t('users.password_short')); box.show(t('error.form')); pw.input.focus(); return; }
    busy(save, async () => {
      try {
        const res = await ctx.api.post(`/users/${encodeURIComponent(who.input.value)}/password`, { password: pw.input.value });
        pw.input.value = '';
        ctx.announce(t('users.password_set', { user: who.input.value, tokens: res.tokens_ended || 0 }));
        box.clear();
      } catch (err) { showFormError(err, [who, pw], box); }
    });
  });
  return form;
}
