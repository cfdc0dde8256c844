// Import (admins): choose a staff CSV or an import document, see exactly what it would add and
// change (POST /api/import/preview), then apply it all or nothing with the preview's digest.
import { t, fmtNumber } from '../i18n.js';
import { el, h1, field, button, errorBox, busy, table, emptyNote, dl, confirmDialog } from '../ui.js';

// Names of the import report's counts, in words (counts: ImportReport).
function countLabels() {
  return {
    organisations: t('import.n_organisations'), sites: t('import.n_sites'), persons: t('import.n_persons'),
    users: t('import.n_users'), courses: t('import.n_courses'), occasions: t('import.n_occasions'),
    enrolments: t('import.n_enrolments'), attendance: t('import.n_attendance'), participations: t('import.n_participations'),
    time_attestations: t('import.n_time_attestations'), survey_responses: t('import.n_survey_responses'),
    deviations: t('import.n_deviations'), merged: t('import.n_merged'),
  };
}
function kindLabel(kind) {
  const m = {
    organisation: t('import.kind_organisation'), site: t('import.kind_site'), person: t('import.kind_person'),
    user: t('import.kind_user'), course: t('import.kind_course'), occasion: t('import.kind_occasion'),
    participation: t('import.kind_participation'),
  };
  return m[kind] || kind;
}
// A field value as the preview gives it (JSON text); "" before a new row.
function shown(v) {
  if (v === undefined || v === null || v === '') return t('import.empty_value');
  try {
    const x = JSON.parse(v);
    if (x === null) return t('import.empty_value');
    return typeof x === 'string' ? x : JSON.stringify(x);
  } catch (e) { return String(v); }
}

function countsList(counts) {
  const labels = countLabels();
  const entries = Object.entries(counts || {}).filter(([k, v]) => typeof v === 'number' && v > 0 && labels[k]);
  if (!entries.length) return emptyNote(t('import.nothing'));
  return el('ul', { class: 'counts' }, entries.map(([k, v]) => el('li', {}, el('strong', {}, fmtNumber(v)), ' ', labels[k])));
}

export async function render(params, ctx) {
  const file = field(t('import.file'), { type: 'file', name: 'file', accept: '.csv,.json,text/csv,application/json', required: true, hint: t('import.file_hint') });
  const box = errorBox();
  const out = el('div', { class: 'import-result' });
  const previewBtn = button(t('import.preview'), { type: 'submit', kind: 'primary', icon: 'search', key: 'import-preview' });
  const form = el('form', { class: 'form-card', novalidate: true }, file.wrap, box.node, el('div', { class: 'actions' }, previewBtn));
  let chosen = null;

  function typeOf(f) {
    const name = f.name.toLowerCase();
    if (name.endsWith('.json') || f.type === 'application/json') return 'application/json';
    return 'text/csv';
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    file.setError(null); box.clear(); out.replaceChildren();
    const f = file.input.files && file.input.files[0];
    if (!f) { file.setError(t('import.need_file')); box.show(t('error.form')); file.input.focus(); return; }
    chosen = { file: f, type: typeOf(f) };
    busy(previewBtn, async () => {
      try {
        const pv = await ctx.api.upload('/import/preview', chosen.file, chosen.type);
        showPreview(pv);
      } catch (err) { showBadFile(err); }
    });
  });

  function showBadFile(err) {
    const detail = err.extra && err.extra.detail;
    file.setError(err.code === 'too_large' ? t('import.too_large') : t('import.bad_file'));
    out.replaceChildren(el('div', { class: 'error-box', role: 'alert' },
      el('div', {}, el('p', {}, err.code === 'too_large' ? t('import.too_large') : t('import.bad_file')),
        detail ? el('p', { class: 'detail' }, el('span', {}, t('import.server_says')), ' ', el('code', {}, detail)) : null)));
  }

  function showPreview(pv) {
    const changes = pv.changes || [];
    const added = changes.filter((c) => c.change === 'added');
    const changed = changes.filter((c) => c.change !== 'added');
    const rowsOf = (list) => list.flatMap((c) => (c.fields || []).map((fl, i) => ({ c, fl, first: i === 0 })));
    const changeTable = (caption, list) => table(caption, [
      { label: t('import.col_row'), cell: (r) => `${kindLabel(r.c.kind)} ${r.c.id}` },
      { label: t('import.col_field'), cell: (r) => r.fl.name },
      { label: t('import.col_before'), cell: (r) => shown(r.fl.before) },
      { label: t('import.col_after'), cell: (r) => shown(r.fl.after) },
    ], rowsOf(list));
    const apply = button(t('import.apply'), { kind: 'primary', icon: 'check', key: 'import-apply' });
    apply.addEventListener('click', async () => {
      const yes = await confirmDialog({ title: t('import.apply_title'), text: t('import.apply_text', { added: added.length, changed: changed.length }), confirmLabel: t('import.apply_confirm') });
      if (!yes) return;
      busy(apply, async () => {
        try {
          const res = await ctx.api.upload(`/import/apply?digest=${encodeURIComponent(pv.digest)}`, chosen.file, chosen.type);
          const counts = Object.assign({}, res.counts || {}, { merged: res.merged || 0 });
          const done = el('section', { 'aria-labelledby': 'import-done', class: 'done-box' },
            el('h2', { id: 'import-done', tabindex: '-1' }, t('import.done_title')), countsList(counts));
          out.replaceChildren(done);
          done.querySelector('h2').focus();
          ctx.announce(t('import.done_title'));
        } catch (err) {
          if (err.code === 'stale_preview' || err.code === 'conflict') box.show(t('import.stale'));
          else box.show(err);
          box.node.scrollIntoView();
        }
      });
    });
    const heading = el('h2', { id: 'import-preview', tabindex: '-1' }, t('import.preview_title'));
    out.replaceChildren(el('section', { 'aria-labelledby': 'import-preview' },
      heading,
      dl([
        [t('import.format'), pv.format === 'staff_csv' ? t('import.format_csv') : t('import.format_json')],
        [t('import.added'), fmtNumber(added.length)],
        [t('import.changed'), fmtNumber(changed.length)],
        [t('import.unchanged'), fmtNumber(pv.unchanged || 0)],
      ]),
      el('h3', {}, t('import.counts_title')), countsList(pv.counts),
      el('h3', {}, t('import.added_title')),
      added.length ? changeTable(t('import.added_caption'), added) : emptyNote(t('import.none_added')),
      el('h3', {}, t('import.changed_title')),
      changed.length ? changeTable(t('import.changed_caption'), changed) : emptyNote(t('import.none_changed')),
      el('p', {}, t('import.apply_explain')),
      changes.length ? el('div', { class: 'actions' }, apply) : emptyNote(t('import.nothing_to_apply'))));
    heading.focus();
    ctx.announce(t('import.preview_ready', { added: added.length, changed: changed.length }));
  }

  return el('div', {},
    h1(t('import.title')),
    el('p', {}, t('import.lead')),
    form,
    out);
}
