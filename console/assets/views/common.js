// Helpers the views share: lookups of names by id, the outcome of an action in words.
import { t, has, enumText } from '../i18n.js';
import { el, badge } from '../ui.js';

// {organisations: Map id→row, sites: Map id→row}; fetched once per render.
export async function places(api) {
  const [orgs, sites] = await Promise.all([api.get('/organisations', { limit: 500 }), api.get('/sites', { limit: 500 })]);
  return {
    organisations: new Map(orgs.rows.map((r) => [r.id, r])),
    sites: new Map(sites.rows.map((r) => [r.id, r])),
  };
}
export function siteName(p, id) {
  if (!id) return t('common.online');
  const s = p.sites.get(id);
  return s ? s.name : id;
}
export function orgName(p, id) {
  const o = p.organisations.get(id);
  return o ? o.name : id;
}
export function siteOptions(p, sites) {
  const list = sites ? sites.map((id) => p.sites.get(id)).filter(Boolean) : [...p.sites.values()];
  return list.sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({ value: s.id, label: `${s.name} (${orgName(p, s.organisation)})` }));
}

// Words for an action's answer: "Sparat." or, when the server adjusted it, why.
export function outcomeText(res) {
  const o = (res && res.outcome) || {};
  if (o.result === 'adjusted' && o.reason && has(`reason.${o.reason}`)) return t('common.saved_adjusted', { reason: t(`reason.${o.reason}`) });
  return t('common.saved');
}

const STATUS_KIND = { confirmed: 'ok', present: 'ok', handled: 'ok', planned: 'info', waitlisted: 'warn', requested: 'warn', open: 'warn', late: 'warn', left_early: 'warn', excused: 'info', cancelled: 'bad', rejected: 'bad', absent: 'bad', unmarked: 'info', completed: 'ok' };
export function statusBadge(family, value) {
  return badge(enumText(family, value), STATUS_KIND[value] || 'info');
}

export function backLink(text, href) {
  return el('p', { class: 'back' }, el('a', { href }, text));
}

// Options of a model enumeration for a <select>, with an empty first choice when optional.
export function enumOptions(family, values, optional) {
  const out = values.map((v) => ({ value: v, label: enumText(family, v) }));
  return optional ? [{ value: '', label: t('common.none') }].concat(out) : out;
}
export const GENDERS = ['woman', 'man', 'non_binary', 'undisclosed'];
export const FORMATS = ['digital_self_paced', 'live_online', 'on_site', 'blended', 'workshop', 'network_meeting'];
export const EDUCATION = ['isced_0_2', 'isced_3_4', 'isced_5_8'];
export const EMPLOYMENT = ['employed', 'self_employed', 'unemployed', 'inactive'];
export const ATTENDANCE = ['present', 'late', 'left_early', 'absent', 'excused'];
export const CATEGORIES = ['cancelled_session', 'technical', 'attendance', 'content', 'accessibility', 'other'];
