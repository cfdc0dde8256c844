// Devices (admins): grouped by tablet (install id); each device's user, last sync (Stockholm
// time and "x days ago"), rejected actions, app version; stale ones (14 days) said in words.
// Revoke one device or a whole tablet: it is wiped on its next contact.
import { t, fmtDateTime, fmtAgo, fmtNumber } from '../i18n.js';
import { el, h1, button, errorBox, busy, table, emptyNote, badge, confirmDialog } from '../ui.js';

export async function render(params, ctx) {
  const data = await ctx.api.get('/tablets');
  const tablets = data.tablets || [];
  const box = errorBox();
  const now = data.now_ms || Date.now();  // the server's clock: "x days ago" as it counts staleness

  function lastSeen(ms) { return ms ? `${fmtDateTime(ms)} (${fmtAgo(ms, now)})` : t('devices.never'); }
  function revokeDevice(d) {
    if (d.revoked) return badge(t('devices.revoked'), 'bad', 'lock');
    const b = button(t('devices.revoke'), { kind: 'secondary', key: `dev-${d.id}` });
    b.querySelector('.btn-text').appendChild(el('span', { class: 'visually-hidden' }, ` ${t('devices.of_user', { user: d.username })}`));
    b.addEventListener('click', async () => {
      const yes = await confirmDialog({ title: t('devices.revoke_title'), text: t('devices.revoke_text', { user: d.username }), confirmLabel: t('devices.revoke_confirm'), danger: true });
      if (!yes) return;
      busy(b, async () => {
        try {
          await ctx.api.post(`/devices/${encodeURIComponent(d.id)}/revoke`, {});
          ctx.announce(t('devices.revoked_done'));
          ctx.rerender(null);
        } catch (err) { box.show(err); }
      });
    });
    return b;
  }

  const sections = tablets.map((tab, i) => {
    const titleId = `tablet-${i}`;
    const name = tab.install_id ? t('devices.tablet', { id: tab.install_id }) : t('devices.no_tablet');
    const active = (tab.devices || []).filter((d) => !d.revoked);
    let revokeAll = null;
    if (tab.install_id && active.length) {
      revokeAll = button(t('devices.revoke_tablet'), { kind: 'danger', icon: 'lock', key: `tab-${tab.install_id}` });
      revokeAll.addEventListener('click', async () => {
        const yes = await confirmDialog({ title: t('devices.revoke_tablet_title'), text: t('devices.revoke_tablet_text', { count: active.length }), confirmLabel: t('devices.revoke_tablet_confirm'), danger: true });
        if (!yes) return;
        busy(revokeAll, async () => {
          try {
            const res = await ctx.api.post(`/tablets/${encodeURIComponent(tab.install_id)}/revoke`, {});
            ctx.announce(t('devices.tablet_revoked_done', { count: res.revoked || 0 }));
            ctx.rerender(null);
          } catch (err) { box.show(err); }
        });
      });
    }
    return el('section', { class: `tablet${tab.stale ? ' stale' : ''}`, 'aria-labelledby': titleId },
      el('h2', { id: titleId }, name),
      el('p', { class: 'state-line' },
        tab.stale ? badge(t('devices.stale'), 'warn', 'clock') : null,
        el('span', {}, t('devices.last_sync', { when: lastSeen(tab.last_seen_ms) }))),
      table(t('devices.caption', { name }), [
        { label: t('devices.user'), cell: (d) => `${d.username} (${t(`role.${d.role}`)})` },
        { label: t('devices.last_sync_col'), cell: (d) => el('span', {}, lastSeen(d.last_seen_ms), d.stale && !d.revoked ? [' ', badge(t('devices.stale'), 'warn', 'clock')] : null) },
        { label: t('devices.rejections'), cell: (d) => (d.rejections ? badge(fmtNumber(d.rejections), 'bad', 'warning') : '0'), num: true },
        { label: t('devices.app_version'), cell: (d) => d.app_version || t('common.none') },
        { label: t('devices.access'), cell: revokeDevice },
      ], tab.devices || []),
      revokeAll ? el('div', { class: 'actions' }, revokeAll) : null);
  });
  return el('div', {},
    h1(t('devices.title')),
    el('p', {}, t('devices.lead')),
    box.node,
    sections.length ? sections : emptyNote(t('devices.empty')));
}
