/* Inside an embedded survey widget (the page of ?embed=1): talks to the loader on the agency's page (static/embed.js).
 * Out: {type: 'par:height', height} as the form grows; {type: 'par:done'} once the receipt shows (no code: the
 *      receipt is the citizen's, not the host's); {type: 'par:escape'} on Esc, so the host's dialog closes.
 * In:  {type: 'par:focus', to: 'last'} from the parent window only: the dialog's focus trap, moving backwards.
 * The fragment #par-q=<item>&par-a=<value> pre-fills the answer chosen in the host's prompt. */
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

  const prefill = () => {
    const p = new URLSearchParams(location.hash.slice(1)), q = p.get('par-q'), a = p.get('par-a');
    const input = q && a && Array.from(d.querySelectorAll('input[type=radio]')).find(i => i.name === q && i.value === a);
    if (!input || input.checked) return;
    input.checked = true;
    ['input', 'change'].forEach(t => input.dispatchEvent(new Event(t, { bubbles: true })));
  };
  prefill();
  addEventListener('hashchange', prefill);

  addEventListener('message', e => {
    const m = e.data;
    if (e.source !== up || (host !== '*' && e.origin !== host)) return;
    if (!m || typeof m !== 'object' || Object.keys(m).sort().join() !== 'to,type' || m.type !== 'par:focus' || m.to !== 'last') return;
    const tabbable = Array.from(d.querySelectorAll('a[href],button,input,select,textarea,[tabindex]')).filter(
      x => x.tabIndex >= 0 && !x.disabled && x.type !== 'hidden' && x.getClientRects().length);
    if (tabbable.length) tabbable[tabbable.length - 1].focus();
  });
})();
