/* Inside an embedded survey widget: tell the embedding page (static/embed.js) how tall the form is. */
(() => {
  'use strict';
  if (window.parent === window) return;
  let last = 0;
  const report = () => {
    const h = Math.ceil(document.documentElement.scrollHeight);
    if (h !== last) { last = h; window.parent.postMessage({ type: 'par:height', height: h }, '*'); }
  };
  addEventListener('load', report);
  addEventListener('resize', report);
  if ('ResizeObserver' in window) new ResizeObserver(report).observe(document.body);
  report();
})();
