// First screen: the people who signed in on this tablet, as big buttons.
import { t, getLang } from '../i18n.js';
import { el, h1, linkButton, button } from '../ui.js';
import { icon } from '../icons.js';

export async function render(params, ctx) {
  const { people } = await ctx.api.get('/api/people');
  // Nobody has signed in on this tablet yet: the only task is to sign in.
  if (!people.length) { location.replace('#/signin'); return el('div', {}); }
  const list = el('ul', { class: 'people-list' });
  for (const p of people) {
    // Signed out or wiped from the server: sign in again (the server is needed); ten wrong
    // PINs or no PIN yet: the password unlocks offline; else the PIN.
    const href = p.signed_out ? `#/signin/${encodeURIComponent(p.username)}`
      : p.needs_password || !p.has_pin ? `#/password/${encodeURIComponent(p.id)}` : `#/pin/${encodeURIComponent(p.id)}`;
    list.appendChild(el('li', {}, el('a', { class: 'btn btn-person btn-big', href, 'data-key': `person-${p.id}` },
      icon('user'), el('span', { class: 'btn-text' }, p.name,
        p.needs_password ? el('span', { class: 'btn-sub' }, t('people.needs_password')) : null))));
  }
  const other = getLang() === 'sv' ? 'en' : 'sv';
  return el('div', { class: 'screen screen-people' },
    h1(t('people.title')),
    el('p', { class: 'lead' }, t('people.intro')),
    list,
    el('div', { class: 'actions' },
      linkButton(t('people.new_person'), '#/signin', { icon: 'plus', big: true }),
      // The language button is named in the other language, so those who need it can read it.
      el('button', { type: 'button', class: 'btn btn-secondary', lang: other, onclick: () => ctx.setLanguage(other) },
        icon('globe'), el('span', { class: 'btn-text' }, (other === 'en' ? t('people.switch_to_en') : t('people.switch_to_sv'))))));
}
