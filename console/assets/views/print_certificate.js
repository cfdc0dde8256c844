// Print page: a course certificate for one participant of one occasion.
import { t, fmtDateLong, fmtTime, minutesText } from '../i18n.js';
import { el, h1 } from '../ui.js';
import { places, siteName } from './common.js';
import { printBar, esfLine } from './print_attendance.js';

export async function render(params, ctx) {
  const [p, roster] = await Promise.all([places(ctx.api), ctx.api.get(`/occasions/${encodeURIComponent(params.occasion)}/roster`)]);
  const o = roster.occasion;
  const course = roster.course || {};
  const siteId = typeof roster.site === 'object' && roster.site ? roster.site.id : o.site;
  const enr = (roster.enrolments || []).find((e) => e.person === params.person);
  const mark = (roster.attendance || []).find((a) => a.person === params.person);
  const name = (enr && enr.person_name) || (mark && mark.person_name) || params.person;
  const minutes = mark && mark.minutes ? mark.minutes : Math.round((new Date(o.ends_at) - new Date(o.starts_at)) / 60000);
  return el('div', { class: 'sheet certificate' },
    printBar(t('print.back_occasion'), `#/occasion/${encodeURIComponent(o.id)}`),
    esfLine(),
    h1(t('print.certificate_title')),
    el('p', { class: 'cert-lead' }, t('print.certificate_for')),
    el('p', { class: 'cert-name' }, name),
    el('p', { class: 'cert-lead' }, t('print.certificate_has')),
    el('p', { class: 'cert-course' }, course.title || o.course),
    course.description ? el('p', { class: 'cert-desc' }, course.description) : null,
    el('dl', { class: 'facts print-facts' },
      el('dt', {}, t('print.date')), el('dd', {}, fmtDateLong(o.starts_at)),
      el('dt', {}, t('print.time')), el('dd', {}, `${fmtTime(o.starts_at)}–${fmtTime(o.ends_at)}`),
      el('dt', {}, t('print.length')), el('dd', {}, minutesText(minutes)),
      el('dt', {}, t('print.site')), el('dd', {}, siteName(p, siteId)),
      el('dt', {}, t('print.provider')), el('dd', {}, course.provider || t('common.none'))),
    el('div', { class: 'signatures' },
      el('p', {}, el('span', { class: 'sign-label' }, t('print.coordinator_signature')), el('span', { class: 'sign-line wide' })),
      el('p', {}, el('span', { class: 'sign-label' }, t('print.sign_date')), el('span', { class: 'sign-line' }))));
}
