/* Inside an embedded survey widget (the page of ?embed=1): talks to the loader on the agency's page (static/embed.js).
 * Out: {type: 'par:height', height} as the form grows; {type: 'par:done'} once the receipt shows (no code: the
 *      receipt is the citizen's, not the host's); {type: 'par:escape'} on Esc, so the host's dialog closes.
 * In (from the parent window only):
 *      {type: 'par:focus', to: 'last'}: the dialog's focus trap, moving backwards, into the form's last control;
 *      {type: 'par:answer', question, value}: the point chosen in the host's prompt, pre-filled into that item. */
(() => {
  'use strict';
  const up = window.parent, d = document;
  if (up === window) return;
  // The parent is one of the agency's registered origins (CSP frame-ancestors); where the browser says which, post
  // only there. The messages carry nothing personal, so '*' where it does not (Firefox) exposes nothing.
  const host = (location.ancestorOrigins && location.ancestorOrigins[0]) || '*';
  const post = message => up.postMessage(message, host);

  let last = 0;
  const report = () => {
    const h = Math.ceil(d.documentElement.scrollHeight);
    if (h !== last) { last = h; post({ type: 'par:height', height: h }); }
  };
  addEventListener('load', report);
  addEventListener('resize', report);
  if ('ResizeObserver' in window) new ResizeObserver(report).observe(d.body);
  report();

  let done = false;
  const receipt = () => {
    if (!done && d.querySelector('.receipt')) { done = true; post({ type: 'par:done' }); }
  };
  new MutationObserver(receipt).observe(d.body, { childList: true, subtree: true });
  receipt(); // the receipt page of a form post (no JavaScript path)

  addEventListener('keydown', e => {
    if (e.key === 'Escape' && !e.defaultPrevented) post({ type: 'par:escape' });
  });

  // The prompt's quick answer: fills one radio item, again when the citizen picks another point in the prompt,
  // but never over an answer the citizen gave in the form itself.
  const filled = {};
  const answer = (name, value) => {
    const group = Array.from(d.querySelectorAll('input[type=radio]')).filter(i => i.name === name);
    const input = group.find(i => i.value === value), now = group.find(i => i.checked);
    if (!input || input.checked || (now && now.value !== filled[name])) return;
    input.checked = true;
    filled[name] = value;
    ['input', 'change'].forEach(t => input.dispatchEvent(new Event(t, { bubbles: true })));
  };
  const focusLast = () => {
    const tabbable = Array.from(d.querySelectorAll('a[href],button,input,select,textarea,[tabindex]')).filter(
      x => x.tabIndex >= 0 && !x.disabled && x.type !== 'hidden' && x.getClientRects().length);
    if (tabbable.length) tabbable[tabbable.length - 1].focus();
  };
  addEventListener('message', e => {
    const m = e.data, keys = m && typeof m === 'object' ? Object.keys(m).sort().join() : '';
    if (e.source !== up || (host !== '*' && e.origin !== host)) return;
    if (keys === 'to,type' && m.type === 'par:focus' && m.to === 'last') focusLast();
    if (keys === 'question,type,value' && m.type === 'par:answer' && /^[A-Za-z0-9._-]{1,64}$/.test(m.question) &&
        /^[A-Za-z0-9._-]{1,64}$/.test(m.value)) answer(m.question, m.value);
  });
})();
