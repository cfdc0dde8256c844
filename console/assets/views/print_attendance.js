// Print page: the attendance list of one occasion (ESF audit evidence): course, date and time,
// site, the confirmed participants in name order with a signature line each, and the
// coordinator's signature. @media print hides everything but the sheet.
import { t, fmtDateLong, fmtTime, fmtNumber } from '../i18n.js';
import { el, h1, button, linkButton, table } from '../ui.js';
import { places, siteName } from './common.js';

export function printBar(backText, backHref) {
  return el('div', { class: 'print-bar no-print' },
    linkButton(backText, backHref, { icon: 'back' }),
    button(t('print.print'), { kind: 'primary', icon: 'print', onclick: () => window.print(), key: 'print' }),
    el('p', { class: 'hint' }, t('print.hint')));
}

export function esfLine() {
  return el('p', { class: 'esf' }, el('strong', {}, t('print.esf_funded')), ' ', t('print.esf_project'));
}

export async function render(params, ctx) {
  const [p, roster] = await Promise.all([places(ctx.api), ctx.api.get(`/occasions/${encodeURIComponent(params.occasion)}/roster`)]);
  const o = roster.occasion;
  const course = roster.course || {};
  const siteId = typeof roster.site === 'object' && roster.site ? roster.site.id : o.site;
  const people = (roster.enrolments || []).filter((e) => e.status === 'confirmed')
    .sort((a, b) => (a.person_name || '').localeCompare(b.person_name || '', 'sv'));
  return el('div', { class: 'sheet' },
    printBar(t('print.back_occasion'), `#/occasion/${encodeURIComponent(o.id)}`),
    esfLine(),
    h1(t('print.attendance_title')),
    el('dl', { class: 'facts print-facts' },
      el('dt', {}, t('print.course')), el('dd', {}, course.title || o.course),
      el('dt', {}, t('print.date')), el('dd', {}, fmtDateLong(o.starts_at)),
      el('dt', {}, t('print.time')), el('dd', {}, `${fmtTime(o.starts_at)}–${fmtTime(o.ends_at)}`),
      el('dt', {}, t('print.site')), el('dd', {}, siteName(p, siteId)),
      el('dt', {}, t('print.provider')), el('dd', {}, course.provider || t('common.none')),
      el('dt', {}, t('print.participants')), el('dd', {}, fmtNumber(people.length))),
    table(t('print.attendance_caption', { course: course.title || o.course }), [
      { label: t('print.number'), cell: (e) => String(people.indexOf(e) + 1), num: true },
      { label: t('print.name'), cell: (e) => e.person_name || e.person },
      { label: t('print.signature'), cell: () => el('span', { class: 'sign-line' }, el('span', { class: 'visually-hidden' }, t('print.signature_blank'))) },
    ], people, { rowHeader: false }),
    people.length ? null : el('p', {}, t('print.no_participants')),
    el('div', { class: 'signatures' },
      el('p', {}, el('span', { class: 'sign-label' }, t('print.coordinator_signature')), el('span', { class: 'sign-line wide' })),
      el('p', {}, el('span', { class: 'sign-label' }, t('print.name_clarification')), el('span', { class: 'sign-line wide' })),
      el('p', {}, el('span', { class: 'sign-label' }, t('print.sign_date')), el('span', { class: 'sign-line' }))));
}
