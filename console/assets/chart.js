// Bar and line charts drawn here as inline SVG, built with DOM calls (no outside service, no
// HTML text). Each chart is role="img" named by its caption, and is followed by a table of the
// very same numbers (the accessible version, and what a screen reader reads).
import { t } from './i18n.js';
import { el, uid, table } from './ui.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

// The drawing's width in CSS px: the page's (a phone's 360, a desktop's 640 at most), so its
// text is drawn at its real size rather than scaled down.
function chartWidth() {
  const main = document.getElementById('main');
  const w = main ? main.clientWidth - 32 : 640;
  return Math.round(Math.min(640, Math.max(280, w)));
}

// items: [{label, value (number | null: suppressed)}]; fmt(value) → text.
// opts: {caption, valueLabel, labelHeader, max}
export function barChart(items, fmt, opts) {
  const capId = uid('chart');
  const W = chartWidth();
  const narrow = W < 480;
  const labelW = narrow ? 130 : 250;
  const valueW = narrow ? 60 : 90;
  const rowH = 34;
  const top = 8;
  const H = top + items.length * rowH + 8;
  const numbers = items.map((i) => i.value).filter((v) => typeof v === 'number');
  const max = opts.max || Math.max(1, ...numbers);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': capId, class: 'chart', preserveAspectRatio: 'xMinYMin meet' });
  items.forEach((it, i) => {
    const y = top + i * rowH;
    svg.appendChild(s('text', { x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end', class: 'chart-label' }, clip(it.label, narrow ? 14 : 26)));
    const barMax = W - labelW - valueW;
    if (typeof it.value === 'number') {
      const w = Math.max(it.value > 0 ? 2 : 0, (it.value / max) * barMax);
      svg.appendChild(s('rect', { x: labelW, y: y + 5, width: w, height: rowH - 10, class: 'chart-bar' }));
      svg.appendChild(s('text', { x: labelW + w + 6, y: y + rowH / 2 + 5, class: 'chart-value' }, fmt(it.value)));
    } else {
      svg.appendChild(s('text', { x: labelW + 6, y: y + rowH / 2 + 5, class: 'chart-value chart-suppressed' }, t('reports.suppressed')));
    }
  });
  svg.appendChild(s('line', { x1: labelW, y1: top, x2: labelW, y2: H - 8, class: 'chart-axis' }));
  return figure(capId, opts.caption, svg, items, fmt, opts);
}

// items: [{label, value}] in order (e.g. months); a line with a dot per point.
export function lineChart(items, fmt, opts) {
  const capId = uid('chart');
  const W = chartWidth();
  const H = 260;
  const left = 60;
  const right = 20;
  const top = 20;
  const bottom = 50;
  const numbers = items.map((i) => i.value).filter((v) => typeof v === 'number');
  const max = Math.max(1, ...numbers);
  const x = (i) => left + (items.length <= 1 ? 0 : (i * (W - left - right)) / (items.length - 1));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': capId, class: 'chart', preserveAspectRatio: 'xMinYMin meet' });
  svg.appendChild(s('line', { x1: left, y1: top, x2: left, y2: H - bottom, class: 'chart-axis' }));
  svg.appendChild(s('line', { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: 'chart-axis' }));
  svg.appendChild(s('text', { x: left - 6, y: top + 5, 'text-anchor': 'end', class: 'chart-value' }, fmt(max)));
  svg.appendChild(s('text', { x: left - 6, y: H - bottom + 5, 'text-anchor': 'end', class: 'chart-value' }, fmt(0)));
  let path = '';
  items.forEach((it, i) => {
    if (typeof it.value !== 'number') return;
    path += `${path ? 'L' : 'M'}${x(i).toFixed(1)} ${y(it.value).toFixed(1)}`;
  });
  if (path) svg.appendChild(s('path', { d: path, class: 'chart-line' }));
  const every = Math.max(1, Math.ceil(items.length / (W < 480 ? 3 : 6)));
  items.forEach((it, i) => {
    if (typeof it.value === 'number') svg.appendChild(s('circle', { cx: x(i), cy: y(it.value), r: 5, class: 'chart-dot' }));
    if (i % every === 0 || i === items.length - 1) {
      svg.appendChild(s('text', { x: x(i), y: H - bottom + 22, 'text-anchor': 'middle', class: 'chart-label' }, clip(it.label, 12)));
    }
  });
  return figure(capId, opts.caption, svg, items, fmt, opts);
}

function figure(capId, caption, svg, items, fmt, opts) {
  return el('figure', { class: 'chart-figure' },
    el('figcaption', { id: capId }, caption),
    el('div', { class: 'chart-box' }, svg),
    table(t('reports.chart_table', { chart: caption }), [
      { label: opts.labelHeader, cell: (i) => i.label },
      { label: opts.valueLabel, cell: (i) => (typeof i.value === 'number' ? fmt(i.value) : t('reports.suppressed')), num: true },
    ], items));
}

function clip(text, n) { const str = String(text); return str.length > n ? `${str.slice(0, n - 1)}…` : str; }
