// Participant: the survey after an occasion: three 1–5 ratings and a comment.
import { t, fmtDate } from '../i18n.js';
import { el, h1, button, linkButton, errorBox, field, busy } from '../ui.js';
import { ApiError } from '../api.js';

const QUESTIONS = ['content', 'usefulness', 'overall'];
function question(q) {
  if (q === 'content') return t('survey.q_content');
  if (q === 'usefulness') return t('survey.q_usefulness');
  return t('survey.q_overall');
}

export async function render(params, ctx) {
  const todo = await ctx.api.get('/api/todo');
  const s = todo.surveys.find((x) => x.occasion === params.occasion);
  if (!s) throw new ApiError(404, 'not_found', {});
  const err = errorBox();
  const groups = QUESTIONS.map((q) => {
    const name = `rating-${q}`;
    const opts = el('div', { class: 'rating-options' });
    for (let v = 1; v <= 5; v += 1) {
      const id = `${name}-${v}`;
      opts.appendChild(el('div', { class: 'rating' },
        el('input', { type: 'radio', name, id, value: String(v), 'data-key': id }),
        el('label', { for: id }, el('span', { class: 'rating-num' }, String(v)),
          v === 1 || v === 5 ? el('span', { class: 'rating-word' }, v === 1 ? t('survey.scale_low') : t('survey.scale_high')) : null)));
    }
    return el('fieldset', { class: 'rating-group' }, el('legend', {}, question(q)), opts);
  });
  const comment = field(t('survey.comment'), { tag: 'textarea', hint: t('survey.comment_hint'), maxlength: 2000 });
  const submitBtn = button(t('survey.submit'), { icon: 'check', kind: 'primary', type: 'submit', big: true });
  async function submit(e) {
    e.preventDefault();
    err.clear();
    const values = {};
    for (const q of QUESTIONS) {
      const c = document.querySelector(`input[name="rating-${q}"]:checked`);
      if (!c) { err.show(t('survey.missing', { question: question(q) })); document.getElementById(`rating-${q}-1`).focus(); return; }
      values[q] = Number(c.value);
    }
    await busy(submitBtn, async () => {
      try {
        await ctx.api.post('/api/survey', Object.assign({ occasion: s.occasion, comment: comment.input.value.trim() || null }, values));
        ctx.announce(t('survey.saved'));
        await ctx.refreshStatus();
        ctx.navigate('#/home');
      } catch (ex) { err.show(ex); }
    });
  }
  return el('div', { class: 'screen screen-survey' },
    h1(t('survey.title', { title: s.course_title })),
    el('p', { class: 'lead' }, t('survey.intro', { day: fmtDate(s.ends_at) })),
    el('form', { onsubmit: submit, novalidate: true }, ...groups, comment.wrap, err.node,
      el('div', { class: 'actions' }, submitBtn, linkButton(t('common.back_home'), '#/home', { icon: 'back' }))));
}
