// Unlock with the PIN: digit buttons and a labelled input (the keyboard works too).
import { t } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field } from '../ui.js';
import { ApiError } from '../api.js';

export async function render(params, ctx) {
  const { people } = await ctx.api.get('/api/people');
  const person = people.find((p) => p.id === params.person);
  if (!person) throw new ApiError(404, 'not_found', {});
  const err = errorBox();
  const f = field(t('pin.label'), { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: 6,
    pattern: '[0-9]*', hint: t('pin.hint') });
  const input = f.input;
  input.setAttribute('data-key', 'pin-input');
  const waitNote = el('p', { class: 'wait-note', hidden: true, tabindex: '-1' });
  const passwordLink = el('p', { hidden: true }, linkButton(t('pin.use_password'), `#/password/${encodeURIComponent(person.id)}`, { icon: 'lock', kind: 'primary' }));
  const digits = [];
  let waitTimer = null;

  function setDisabled(d) {
    input.disabled = d;
    for (const b of digits) b.disabled = d;
  }
  function waitFor(seconds) {
    setDisabled(true);
    let left = seconds;
    const tick = () => {
      if (!waitNote.isConnected && left < seconds) return;
      if (left <= 0) { waitNote.hidden = true; setDisabled(false); input.focus(); return; }
      waitNote.textContent = t('pin.wait_left', { seconds: left });
      waitNote.hidden = false;
      left -= 1;
      waitTimer = setTimeout(tick, 1000);
    };
    clearTimeout(waitTimer);
    tick();
  }

  async function submit(e) {
    if (e) e.preventDefault();
    err.clear();
    const pin = input.value.trim();
    if (!/^[0-9]{4,6}$/.test(pin)) { err.show(t('pin.bad_format')); input.focus(); return; }
    setDisabled(true);
    try {
      await ctx.api.post('/api/unlock', { person: person.id, pin });
      await ctx.signedIn();
      return;
    } catch (ex) {
      input.value = '';
      setDisabled(false);
      if (ex.code === 'wrong_pin') {
        err.show(t('pin.wrong', { failures: ex.extra.failures || 1 }));
        // This wrong PIN started a wait (the fifth, and each after it): show it now, not at the next try.
        if (ex.extra.retry_after_s > 0) { waitFor(ex.extra.retry_after_s); waitNote.focus(); return; }
      }
      else if (ex.code === 'pin_wait') { err.show(t('pin.wait', { seconds: ex.extra.retry_after_s || 30 })); waitFor(ex.extra.retry_after_s || 30); waitNote.focus(); return; }
      else if (ex.code === 'password_needed') { err.show(t('pin.password_needed')); setDisabled(true); passwordLink.hidden = false; passwordLink.querySelector('a').focus(); return; }
      else err.show(ex);
      input.focus();
    }
  }

  const pad = el('div', { class: 'pinpad', role: 'group', 'aria-label': t('pin.pad_label') });
  for (const d of ['1', '2', '3', '4', '5', '6', '7', '8', '9']) {
    const b = button(d, { class: 'pin-digit', key: `digit-${d}`, onclick: () => { if (input.value.length < 6) input.value += d; } });
    digits.push(b); pad.appendChild(b);
  }
  const erase = button(t('pin.erase'), { icon: 'backspace', class: 'pin-digit', key: 'digit-erase', onclick: () => { input.value = input.value.slice(0, -1); } });
  const zero = button('0', { class: 'pin-digit', key: 'digit-0', onclick: () => { if (input.value.length < 6) input.value += '0'; } });
  const ok = button(t('pin.ok'), { icon: 'check', kind: 'primary', class: 'pin-digit', type: 'submit', key: 'digit-ok' });
  digits.push(erase, zero, ok);
  pad.append(erase, zero, ok);

  const form = el('form', { class: 'pin-form', onsubmit: submit, novalidate: true }, f.wrap, err.node, waitNote, pad);
  return el('div', { class: 'screen screen-pin' },
    h1(t('pin.title', { name: person.name })),
    form, passwordLink,
    el('div', { class: 'actions' },
      linkButton(t('pin.forgot'), `#/password/${encodeURIComponent(person.id)}`, { icon: 'lock' }),
      linkButton(t('common.back_people'), '#/people', { icon: 'back' })));
}
