// Participant: confirm the month's time (suggested minutes prefilled).
import { t, fmtMonth } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy, pendingBadge, badge } from '../ui.js';

export async function render(params, ctx) {
  const a = await ctx.api.get(`/api/attest?month=${encodeURIComponent(params.month)}`);
  const err = errorBox();
  // `attested`: the minutes already confirmed (a number), or true/false, or null.
  const attestedMinutes = typeof a.attested === 'number' ? a.attested : null;
  const done = a.attested === true || attestedMinutes !== null;
  const minutes = field(t('attest.minutes'), { type: 'number', inputmode: 'numeric', min: 0, max: 20000,
    value: String(attestedMinutes !== null ? attestedMinutes : a.suggested_minutes), hint: t('attest.minutes_hint', { minutes: a.suggested_minutes }) });
  const submitBtn = button(t('attest.submit'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    const v = Number(minutes.input.value);
    if (minutes.input.value === '' || !Number.isInteger(v) || v < 0) { err.show(t('attest.bad_minutes')); minutes.input.focus(); return; }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/attest', { month: a.month, minutes: v });
        ctx.announce(t('attest.saved'));
        await ctx.refreshStatus();
        ctx.navigate('#/home');
      } catch (ex) { err.show(ex); }
    });
  }
  return el('div', { class: 'screen screen-attest' },
    h1(t('attest.title', { month: fmtMonth(a.month) })),
    el('p', { class: 'lead' }, t('attest.intro', { occasions: a.occasions, minutes: a.suggested_minutes })),
    done ? el('div', { class: 'state-line' }, badge(attestedMinutes !== null ? t('attest.already', { minutes: attestedMinutes }) : t('attest.already_done'), 'ok', 'check'), a.pending ? pendingBadge() : null) : null,
    el('form', { onsubmit: submit, novalidate: true }, minutes.wrap, el('p', {}, t('attest.confirm_text')), err.node,
      el('div', { class: 'actions' }, submitBtn, linkButton(t('common.back_home'), '#/home', { icon: 'back' }))));
}
