// Settings: language, change password, sign out from this tablet (switching person is in
// every screen's header).
import { t, getLang, languages } from '../i18n.js';
import { el, h1, button, linkButton } from '../ui.js';

export async function render(params, ctx) {
  const s = ctx.status();
  const langButtons = languages().map((l) => button(l === 'sv' ? t('settings.lang_sv') : t('settings.lang_en'), {
    icon: getLang() === l ? 'check' : 'globe', pressed: getLang() === l ? 'true' : 'false', key: `lang-${l}`, class: 'toggle',
    onclick: async () => { await ctx.setLanguage(l); ctx.announce(t('settings.lang_saved')); },
  }));
  for (const b of langButtons) b.setAttribute('lang', b.getAttribute('data-key').slice(5));
  return el('div', { class: 'screen screen-settings' },
    h1(t('settings.title')),
    el('p', { class: 'lead' }, t('settings.signed_in_as', { name: s.user.name, username: s.user.username })),
    el('section', { 'aria-labelledby': 'set-lang' }, el('h2', { id: 'set-lang' }, t('settings.language')),
      el('div', { class: 'actions', role: 'group', 'aria-labelledby': 'set-lang' }, ...langButtons)),
    el('section', { 'aria-labelledby': 'set-pw' }, el('h2', { id: 'set-pw' }, t('settings.password_title')),
      el('p', {}, t('settings.password_text')),
      linkButton(t('settings.password_button'), '#/password-change', { icon: 'lock' })),
    el('section', { 'aria-labelledby': 'set-out' }, el('h2', { id: 'set-out' }, t('settings.signout_title')),
      el('p', {}, t('settings.signout_text')),
      linkButton(t('settings.signout_button'), '#/signout', { icon: 'out' })));
}
