// Pieces several screens share: the enrolment's state in words.
import { t, reasonText, fmtNumber } from '../i18n.js';
import { el, badge, pendingBadge } from '../ui.js';

// "Du är anmäld", "Plats 2 i kön", ... plus the reason in plain words and "Väntar på synk".
export function enrolmentState(e) {
  const out = [];
  if (e.status === 'waitlisted' && e.waitlist_position) out.push(badge(t('enrolment.queue_place', { place: e.waitlist_position }), 'warn', 'clock'));
  else out.push(badge(t(`enrolment_status.${e.status}`), e.status === 'confirmed' ? 'ok' : (e.status === 'cancelled' || e.status === 'rejected' ? 'bad' : 'warn'),
    e.status === 'confirmed' ? 'check' : (e.status === 'cancelled' || e.status === 'rejected' ? 'cross' : 'clock')));
  if (e.pending) out.push(pendingBadge());
  const wrap = el('div', { class: 'state-line' }, out);
  if (e.reason && e.reason !== e.status) return [wrap, el('p', { class: 'reason' }, reasonText(e.reason))];
  return [wrap];
}

export function seatsText(o) {
  if (o.seats_left > 0) return t('catalogue.seats_left', { count: o.seats_left });
  return t('catalogue.full');
}
export { fmtNumber };
