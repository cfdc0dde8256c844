// Small DOM helpers: elements are built with createElement/textContent, never from HTML text.
import { icon } from './icons.js';
import { t, errorText } from './i18n.js';

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

// A button with an icon and its visible text. kind: primary | secondary | danger | plain.
export function button(text, opts = {}) {
  const cls = ['btn', `btn-${opts.kind || 'secondary'}`];
  if (opts.big) cls.push('btn-big');
  if (opts.class) cls.push(opts.class);
  return el('button', {
    type: opts.type || 'button', class: cls.join(' '), onclick: opts.onclick,
    disabled: opts.disabled, 'data-key': opts.key, 'aria-pressed': opts.pressed,
    'aria-describedby': opts.describedby,
  }, opts.icon ? icon(opts.icon) : null, el('span', { class: 'btn-text' }, text));
}
// A link styled as a button (navigation between screens).
export function linkButton(text, href, opts = {}) {
  const cls = ['btn', `btn-${opts.kind || 'secondary'}`];
  if (opts.big) cls.push('btn-big');
  return el('a', { class: cls.join(' '), href, 'data-key': opts.key },
    opts.icon ? icon(opts.icon) : null, el('span', { class: 'btn-text' }, text));
}

let idCounter = 0;
export function uid(prefix) { idCounter += 1; return `${prefix}-${idCounter}`; }

// A labelled input. Returns {wrap, input}.
export function field(labelText, opts = {}) {
  const id = opts.id || uid('f');
  const hintId = opts.hint ? `${id}-hint` : null;
  let input;
  if (opts.tag === 'textarea') {
    input = el('textarea', { id, name: opts.name, rows: opts.rows || 4, required: opts.required, maxlength: opts.maxlength });
    if (opts.value) input.value = opts.value;
  } else if (opts.tag === 'select') {
    input = el('select', { id, name: opts.name, required: opts.required });
    for (const o of opts.options || []) input.appendChild(el('option', { value: o.value, selected: o.value === opts.value }, o.label));
  } else {
    input = el('input', {
      id, name: opts.name, type: opts.type || 'text', value: opts.value, required: opts.required,
      autocomplete: opts.autocomplete, inputmode: opts.inputmode, pattern: opts.pattern,
      min: opts.min, max: opts.max, maxlength: opts.maxlength, minlength: opts.minlength,
      spellcheck: opts.spellcheck,
    });
  }
  if (hintId) input.setAttribute('aria-describedby', hintId);
  const wrap = el('div', { class: 'field' },
    el('label', { for: id }, labelText),
    opts.hint ? el('p', { class: 'hint', id: hintId }, opts.hint) : null,
    input);
  return { wrap, input };
}

export function h1(text) { return el('h1', { tabindex: '-1', class: 'screen-title' }, text); }

// The place a form shows its error in words (role=alert: read out when it appears).
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

// A small text badge; never colour alone: the text says it.
export function badge(text, kind, iconName) {
  return el('span', { class: `badge badge-${kind || 'info'}` }, iconName ? icon(iconName) : null, text);
}

export function pendingBadge() { return badge(t('common.pending'), 'pending', 'clock'); }

// Runs an async action with the button disabled, so a double tap does not send it twice.
export async function busy(btn, fn) {
  if (btn) btn.disabled = true;
  try { return await fn(); } finally {
    if (btn && btn.isConnected) {
      btn.disabled = false;
      // A disabled button drops focus to <body>; give it back so keyboard users stay in place.
      if (document.activeElement === document.body) btn.focus();
    }
  }
}
