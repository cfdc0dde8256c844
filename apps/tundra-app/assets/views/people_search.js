// A person search (name), used by walk-in and enrol staff. onPick(person, button) acts on a hit.
import { t } from '../i18n.js';
import { el, button, field, errorBox } from '../ui.js';

export function personSearch(ctx, { actionText, onPick, exclude }) {
  const err = errorBox();
  const q = field(t('search.label'), { type: 'search', hint: t('search.hint'), autocomplete: 'off' });
  q.input.setAttribute('data-key', 'search');
  const results = el('div', { class: 'search-results' });
  const status = el('p', { class: 'result-count' });
  let timer = null;
  let seq = 0;
  async function run() {
    const text = q.input.value.trim();
    const mine = ++seq;
    if (text.length < 2) { results.replaceChildren(); status.textContent = t('search.type_more'); return; }
    try {
      const { persons } = await ctx.api.get(`/api/persons?search=${encodeURIComponent(text)}`);
      if (mine !== seq) return;
      const hits = persons.filter((p) => !(exclude && exclude.has(p.id)));
      status.textContent = hits.length ? t('search.count', { count: hits.length }) : t('search.none');
      ctx.announce(status.textContent);
      const ul = el('ul', { class: 'card-list' });
      for (const p of hits) {
        const nameId = `hit-${p.id}`;
        ul.appendChild(el('li', { class: 'card card-row' },
          el('p', { id: nameId, class: 'person-name' }, p.name,
            p.site_name ? el('span', { class: 'hint' }, ` · ${p.site_name}`) : null,
            p.provisional ? el('span', { class: 'hint' }, ` · ${t('search.provisional')}`) : null),
          button(actionText(p), { icon: 'plus', kind: 'primary', key: `pick-${p.id}`, describedby: nameId,
            onclick: (e) => onPick(p, e.currentTarget, err) })));
      }
      results.replaceChildren(ul);
    } catch (ex) { err.show(ex); }
  }
  const root = el('div', { class: 'person-search', role: 'search' }, q.wrap, status, err.node, results);
  q.input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
    // A search typed (and its hits) is not taken away by a background refresh.
    root.toggleAttribute('data-hold', q.input.value.trim() !== '');
  });
  status.textContent = t('search.type_more');
  return root;
}
