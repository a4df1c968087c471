// Paper-form entry (console): keyboard first. Enter moves to the next open box (Enter on the last, or Ctrl+Enter,
// saves); each box is checked as it is typed (codes printed on the form, ranges, the survey's constraints) and
// questions the answers so far skip are closed, with the survey's own conditions (Survey.client_logic, as form.js).
(() => {
'use strict';
const form = document.getElementById('paper');
if (!form) return;
const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
const L = JSON.parse((document.getElementById('logic') || {}).textContent || '{}'), QL = L.items || {}, SL = L.sections || {};
const msg = form.dataset, boxes = $$('[data-f]', form);
const holds = window.surveyLogic.holds; // static/logic.js: the one browser reading of the conditions
const input = b => b.querySelector('input');
// A box's answer as the server stores it
const value = b => {
  const raw = input(b).value.trim(), t = b.dataset.t;
  if (!raw) return undefined;
  if (t === 'integer' || t === 'decimal') { const x = Number(raw.replace(',', '.')); return Number.isFinite(x) ? x : raw; }
  if (t === 'multi') return [...new Set(raw.split(/[\s,;]+/).filter(Boolean))];
  if (t === 'yn') return { 1: 'yes', 2: 'no' }[raw] || raw;
  if (t === 'consent') return raw === '1' || raw.toLowerCase() === 'x' || raw;
  return raw;
};
const answers = () => {
  const a = {};
  boxes.forEach(b => { const v = value(b); if (!input(b).disabled && v !== undefined) a[b.dataset.f] = v; });
  return a;
};
const fill = (m, v) => m.replace('{v}', v);
const problem = (b, a) => {
  const raw = input(b).value.trim(), t = b.dataset.t, v = value(b);
  if (!raw || input(b).disabled) return '';
  if (b.dataset.codes) {
    const codes = b.dataset.codes.split(' '), keyed = t === 'multi' ? raw.split(/[\s,;]+/).filter(Boolean) : [raw];
    const wrong = keyed.find(c => !codes.includes(c));
    if (wrong) return fill(msg.badCode, wrong);
  }
  if (t === 'integer' && !/^[+-]?\d+$/.test(raw)) return msg.badInt;
  if (t === 'decimal' && typeof v !== 'number') return msg.badNum;
  if (typeof v === 'number') {
    if (b.dataset.min && v < +b.dataset.min) return fill(msg.min, b.dataset.min);
    if (b.dataset.max && v > +b.dataset.max) return fill(msg.max, b.dataset.max);
  }
  const q = QL[b.dataset.f];
  if (q && q.c && !holds(q.c, a)) return (q.m && q.m.vi) || msg.badCode.replace('{v}', raw);
  return '';
};
const show = (b, text) => {
  const e = b.querySelector('.err'), i = input(b);
  e.textContent = text;
  b.classList.toggle('bad', !!text);
  if (text) i.setAttribute('aria-invalid', 'true'); else i.removeAttribute('aria-invalid');
};
// Close the boxes the answers so far skip (section and question conditions, an "other" box without its code)
const apply = () => {
  for (let round = 0; round < 5; round++) {
    const a = answers(), before = JSON.stringify(a);
    boxes.forEach(b => {
      const id = b.dataset.f, q = QL[id] || {}, sec = Object.keys(SL).find(s => (b.dataset.s || '') === s);
      let open = holds(q.r, a) && (!sec || holds(SL[sec], a));
      if (b.dataset.otherOf) {
        const chosen = [].concat(a[b.dataset.otherOf] || []);
        open = b.dataset.otherCodes.split(' ').some(c => chosen.includes(c));
      }
      input(b).disabled = !open;
      b.classList.toggle('off', !open);
    });
    if (JSON.stringify(answers()) === before) break;
  }
};
const check = b => { apply(); const a = answers(); show(b, problem(b, a)); };
const order = () => [document.getElementById('form_number'), ...boxes.map(input)].filter(i => i && !i.disabled);
form.addEventListener('input', e => { const b = e.target.closest('[data-f]'); if (b) check(b); });
form.addEventListener('keydown', e => {
  if (e.key !== 'Enter' || e.target.tagName !== 'INPUT') return;
  e.preventDefault();
  const b = e.target.closest('[data-f]');
  if (b) check(b);
  const list = order(), next = list[list.indexOf(e.target) + 1];
  if (e.ctrlKey || !next) form.requestSubmit(); else next.focus();
});
form.addEventListener('submit', e => {
  apply();
  const a = answers(), bad = boxes.filter(b => { const p = problem(b, a); show(b, p); return p; });
  if (bad.length) { e.preventDefault(); input(bad[0]).focus(); }
});
apply();
const first = form.querySelector('.bad input') || document.getElementById('form_number') ||
  order().find(i => !i.value) || order()[0]; // on the resolve page: the first box still to decide
if (first) first.focus();
})();
