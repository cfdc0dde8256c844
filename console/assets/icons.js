// Inline SVG icons (the tablet app's set and the console's own) (24×24, stroke). Always decorative: aria-hidden, next to visible text.
const SVG_NS = 'http://www.w3.org/2000/svg';
const PATHS = {
  check: 'M4 12l5 5L20 6',
  cross: 'M6 6l12 12M18 6L6 18',
  clock: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3 3',
  sync: 'M20 12a8 8 0 0 1-14 5M4 12a8 8 0 0 1 14-5M18 3v4h-4M6 21v-4h4',
  user: 'M12 12a4 4 0 1 0 0-8a4 4 0 1 0 0 8M4 21c0-4 4-6 8-6s8 2 8 6',
  plus: 'M12 5v14M5 12h14',
  back: 'M15 5l-7 7l7 7',
  home: 'M3 11l9-8l9 8M5 10v10h14V10',
  list: 'M8 6h13M8 12h13M8 18h13M3 6h1M3 12h1M3 18h1',
  calendar: 'M4 5h16v16H4zM4 10h16M8 3v4M16 3v4',
  settings: 'M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2',
  lock: 'M6 11h12v10H6zM8 11V7a4 4 0 0 1 8 0v4',
  warning: 'M12 3l10 18H2zM12 10v5M12 18v0.5',
  search: 'M10 4a6 6 0 1 0 0 12a6 6 0 1 0 0-12M15 15l6 6',
  globe: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18',
  out: 'M10 4H4v16h6M14 8l4 4l-4 4M18 12H9',
  offline: 'M3 3l18 18M8.5 16.5a5 5 0 0 1 7 0M5 13a10 10 0 0 1 5-2.7M19 13a10 10 0 0 0-2.5-1.8M2 9a15 15 0 0 1 4.5-2.8M22 9a15 15 0 0 0-11-3.9',
  online: 'M8.5 16.5a5 5 0 0 1 7 0M5 13a10 10 0 0 1 14 0M2 9a15 15 0 0 1 20 0M12 20v0.5',
  pen: 'M4 20h4L19 9l-4-4L4 16zM14 6l4 4',
  people: 'M9 11a3.5 3.5 0 1 0 0-7a3.5 3.5 0 1 0 0 7M2 20c0-3.5 3-5.5 7-5.5s7 2 7 5.5M16 4.5a3.5 3.5 0 0 1 0 6.5M18 14.5c2.5.5 4 2.5 4 5.5',
  late: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5h5',
  leave: 'M14 4h6v16h-6M10 8l-4 4l4 4M6 12h9',
  excused: 'M5 4h14v16H5zM9 9h6M9 13h6M9 17h3',
  print: 'M7 9V3h10v6M7 17H4v-8h16v8h-3M7 14h10v7H7z',
  download: 'M12 3v12M7 10l5 5l5-5M4 19h16',
  upload: 'M12 15V3M7 8l5-5l5 5M4 19h16',
  chart: 'M4 20V4M4 20h16M8 16v-4M12 16V8M16 16v-6',
  building: 'M4 21V5l8-2v18M12 8h8v13M7 8h2M7 12h2M7 16h2M15 12h2M15 16h2',
  tablet: 'M6 3h12v18H6zM11 18h2',
  book: 'M4 5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2zM4 19V5',
  key: 'M8 15a4 4 0 1 1 3-7l9 0v3h-2v2h-3v-2h-4a4 4 0 0 1-3 4',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 14h10l1-14',
  backspace: 'M9 5h12v14H9l-6-7zM12 9l6 6M18 9l-6 6',
};

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '24');
  svg.setAttribute('height', '24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', PATHS[name] || PATHS.warning);
  svg.appendChild(path);
  return svg;
}
