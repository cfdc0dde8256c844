// Small DOM helpers: elements are built with createElement/textContent, never from HTML text.
import { icon } from './icons.js';
import { t, errorText, fmtNumber } from './i18n.js';

// el('button', {class: 'btn', onclick: fn, 'aria-pressed': 'true'}, 'text', childNode)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'value') node.value = v;
    else if (k === 'checked') node.checked = !!v;
    else if (k === 'disabled') node.disabled = !!v;
    else if (k === 'hidden') node.hidden = !!v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}
function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

// A button with an optional icon and its visible text. kind: primary | secondary | danger.
export function button(text, opts = {}) {
  const cls = ['btn', `btn-${opts.kind || 'secondary'}`];
  if (opts.class) cls.push(opts.class);
  return el('button', {
    type: opts.type || 'button', class: cls.join(' '), onclick: opts.onclick,
    disabled: opts.disabled, 'data-key': opts.key, 'aria-describedby': opts.describedby,
  }, opts.icon ? icon(opts.icon) : null, el('span', { class: 'btn-text' }, text));
}
export function linkButton(text, href, opts = {}) {
  const cls = ['btn', `btn-${opts.kind || 'secondary'}`];
  return el('a', { class: cls.join(' '), href, 'data-key': opts.key, download: opts.download },
    opts.icon ? icon(opts.icon) : null, el('span', { class: 'btn-text' }, text));
}

let idCounter = 0;
export function uid(prefix) { idCounter += 1; return `${prefix}-${idCounter}`; }

// A labelled control with a hint and an error line tied to it (aria-describedby).
// Returns {wrap, input, setError(text|null)}.
export function field(labelText, opts = {}) {
  const id = opts.id || uid('f');
  const hintId = opts.hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  let input;
  if (opts.tag === 'textarea') {
    input = el('textarea', { id, name: opts.name, rows: opts.rows || 4, required: opts.required, maxlength: opts.maxlength });
    if (opts.value) input.value = opts.value;
  } else if (opts.tag === 'select') {
    input = el('select', { id, name: opts.name, required: opts.required, multiple: opts.multiple, size: opts.size });
    const selected = new Set([].concat(opts.value === undefined || opts.value === null ? [] : opts.value));
    for (const o of opts.options || []) {
      input.appendChild(el('option', { value: o.value, selected: selected.has(o.value) }, o.label));
    }
  } else {
    input = el('input', {
      id, name: opts.name, type: opts.type || 'text', value: opts.value, required: opts.required,
      autocomplete: opts.autocomplete || (opts.type === 'password' ? 'new-password' : null), inputmode: opts.inputmode,
      pattern: opts.pattern, min: opts.min, max: opts.max, step: opts.step, maxlength: opts.maxlength,
      minlength: opts.minlength, spellcheck: opts.spellcheck, accept: opts.accept,
    });
  }
  const err = el('p', { class: 'field-error', id: errId, hidden: true });
  const describe = () => {
    const ids = [hintId, err.hidden ? null : errId].filter(Boolean);
    if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
    else input.removeAttribute('aria-describedby');
  };
  describe();
  const wrap = el('div', { class: `field${opts.class ? ` ${opts.class}` : ''}` },
    el('label', { for: id }, labelText, opts.required ? el('span', { class: 'req' }, ` ${t('common.required')}`) : null),
    opts.hint ? el('p', { class: 'hint', id: hintId }, opts.hint) : null,
    err,
    input);
  return {
    wrap,
    input,
    name: opts.name,
    setError(text) {
      err.textContent = '';
      if (text) { err.appendChild(icon('warning')); err.appendChild(el('span', {}, text)); }
      err.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      describe();
    },
  };
}

// A checkbox with its label; the whole row is the target.
export function checkbox(labelText, opts = {}) {
  const id = opts.id || uid('c');
  const input = el('input', { id, type: 'checkbox', name: opts.name, checked: opts.checked, value: opts.value });
  return { wrap: el('div', { class: 'field-check' }, input, el('label', { for: id }, labelText)), input };
}

export function h1(text) { return el('h1', { tabindex: '-1', class: 'screen-title' }, text); }

// Where a form says what went wrong (role=alert: read out when it appears).
export function errorBox() {
  const box = el('div', { class: 'error-box', role: 'alert', hidden: true });
  return {
    node: box,
    show(errOrText) {
      box.textContent = '';
      box.appendChild(icon('warning'));
      box.appendChild(el('span', {}, typeof errOrText === 'string' ? errOrText : errorText(errOrText)));
      box.hidden = false;
    },
    clear() { box.textContent = ''; box.hidden = true; },
  };
}

// Shows an API error on the form: on the field it names (when the form has it), else in the box.
export function showFormError(err, fields, box) {
  for (const f of fields) f.setError(null);
  const name = err && err.extra && err.extra.field;
  const f = name && fields.find((x) => x.name === name);
  if (f) {
    f.setError(t('error.field', { field: f.wrap.querySelector('label').firstChild.textContent }));
    box.show(t('error.form'));
    f.input.focus();
  } else if (err && err.code === 'invalid_argument' && err.extra && err.extra.detail) {
    // No field of this form to point at: the server's own words say which value (in English).
    box.show(`${errorText(err)} ${t('error.server_detail', { detail: err.extra.detail })}`);
  } else {
    box.show(err);
  }
}

// A small text badge; never colour alone: the text says it.
export function badge(text, kind, iconName) {
  return el('span', { class: `badge badge-${kind || 'info'}` }, iconName ? icon(iconName) : null, text);
}

// Runs an async action with the button disabled, so a double click does not send it twice.
export async function busy(btn, fn) {
  if (btn) btn.disabled = true;
  try { return await fn(); } finally {
    if (btn && btn.isConnected) {
      btn.disabled = false;
      if (document.activeElement === document.body) btn.focus();
    }
  }
}

// A data table: <caption>, <th scope="col">, the first column as <th scope="row"> unless
// rowHeader is false. columns: [{label, cell: (row) => text|Node, num: bool}]. The wrapper
// scrolls sideways on a narrow screen (a focusable, named region), the page does not.
function tableRow(columns, r, opts) {
  return el('tr', {}, columns.map((c, i) => {
    const v = c.cell(r);
    const cls = c.num ? 'num' : null;
    return i === 0 && opts.rowHeader !== false ? el('th', { scope: 'row', class: cls }, v) : el('td', { class: cls }, v);
  }));
}

export function table(caption, columns, rows, opts = {}) {
  const capId = uid('cap');
  const head = el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)));
  const body = el('tbody', {}, rows.map((r) => tableRow(columns, r, opts)));
  const tbl = el('table', { class: 'data' },
    el('caption', { id: capId, class: opts.captionHidden ? 'visually-hidden' : null }, caption),
    el('thead', {}, head), body);
  return el('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': capId, tabindex: '0' }, tbl);
}

// A long table shows its first `page` rows and a button for the next ones, so that a month's
// ledger of every organisation (tens of thousands of rows; the CSV download has them all)
// paints at once (docs/benchmarks.md, "The project console").
export function pagedTable(caption, columns, rows, opts = {}) {
  const page = opts.page || 200;
  const wrap = table(caption, columns, rows.slice(0, page), opts);
  if (rows.length <= page) return wrap;
  const tbody = wrap.querySelector('tbody');
  let shown = page;
  const status = el('p', { class: 'hint', role: 'status' });
  const more = button('', { onclick: () => {
    const next = rows.slice(shown, shown + page);
    for (const r of next) tbody.appendChild(tableRow(columns, r, opts));
    shown += next.length;
    update();
  } });
  function update() {
    status.textContent = t('table.shown', { shown: fmtNumber(shown), total: fmtNumber(rows.length) });
    more.querySelector('.btn-text').textContent = t('table.more', { count: fmtNumber(Math.min(page, rows.length - shown)) });
    more.hidden = shown >= rows.length;
  }
  update();
  return el('div', { class: 'paged-table' }, wrap, status, more);
}

export function dl(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

export function emptyNote(text) { return el('p', { class: 'empty' }, text); }

// While a modal dialog is open the page behind it takes no focus and no clicks.
export function setPageInert(on) {
  for (const id of ['skip-link', 'header', 'nav', 'main']) {
    const node = document.getElementById(id);
    if (node) node.inert = on;
  }
}

// A modal confirmation (role=alertdialog). typed: the exact text the user must type first.
// Resolves true (confirmed) or false; focus returns to where it was.
export function confirmDialog({ title, text, confirmLabel, typed, typedLabel, danger }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const titleId = uid('dlg');
    const textId = uid('dlg');
    const root = document.getElementById('dialog-root');
    let typedField = null;
    const ok = button(confirmLabel, { kind: danger ? 'danger' : 'primary', type: 'submit' });
    const cancel = button(t('common.cancel'), { onclick: () => close(false) });
    const box = errorBox();
    if (typed) {
      typedField = field(typedLabel || t('common.type_to_confirm', { text: typed }), { autocomplete: 'off', spellcheck: 'false' });
    }
    const form = el('form', { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'aria-describedby': textId },
      el('h2', { id: titleId }, title),
      el('p', { id: textId }, text),
      box.node,
      typedField ? typedField.wrap : null,
      el('div', { class: 'actions' }, ok, cancel));
    const overlay = el('div', { class: 'overlay' }, form);
    function close(result) {
      overlay.remove();
      setPageInert(false);
      document.removeEventListener('keydown', onKey, true);
      if (before && before.isConnected) before.focus();
      resolve(result);
    }
    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(false); }
      if (e.key === 'Tab') {  // keep focus inside the dialog
        const f = [...form.querySelectorAll('button, input')].filter((x) => !x.disabled);
        if (!f.length) return;
        if (e.shiftKey && document.activeElement === f[0]) { e.preventDefault(); f[f.length - 1].focus(); }
        else if (!e.shiftKey && document.activeElement === f[f.length - 1]) { e.preventDefault(); f[0].focus(); }
      }
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (typedField && typedField.input.value.trim() !== typed) {
        typedField.setError(t('common.type_mismatch', { text: typed }));
        typedField.input.focus();
        return;
      }
      close(true);
    });
    document.addEventListener('keydown', onKey, true);
    root.appendChild(overlay);
    setPageInert(true);
    (typedField ? typedField.input : cancel).focus();
  });
}
