/* PAR/SIPAS survey widget loader for agencies' web sites (Bộ Nội vụ).
 * <div data-par-survey="sipas-2026" data-par-agency="P01" data-par-location="WEB"></div>  (location: optional)
 * <script src="https://<platform>/static/embed.js" async></script>
 * Each such <div> becomes an iframe of the survey, whose height follows the form: static/frame.js,
 * loaded inside the widget page, posts it.
 * The platform only lets the agency's registered web origins frame it (CSP frame-ancestors). */
(() => {
  'use strict';
  const me = document.currentScript || document.querySelector('script[src*="/static/embed.js"]');
  if (!me) return;
  const base = new URL(me.src).origin;
  const frames = [];
  const code = /^[A-Za-z0-9._-]{1,64}$/;
  document.querySelectorAll('[data-par-survey]').forEach(el => {
    if (el.dataset.parReady) return;
    const survey = el.dataset.parSurvey || '', agency = el.dataset.parAgency || '', place = el.dataset.parLocation || '';
    if (!code.test(survey) || (agency && !code.test(agency)) || (place && !code.test(place))) return;
    const f = document.createElement('iframe');
    f.src = `${base}/s/${encodeURIComponent(survey)}?embed=1` + (agency ? `&agency=${encodeURIComponent(agency)}` : '') +
      (place ? `&location=${encodeURIComponent(place)}` : '');
    f.title = el.dataset.parTitle || 'Phiếu khảo sát sự hài lòng — Bộ Nội vụ';
    f.loading = 'lazy';
    f.style.cssText = 'width:100%;min-height:480px;border:0;display:block';
    el.dataset.parReady = '1';
    el.appendChild(f);
    frames.push(f);
  });
  addEventListener('message', e => {
    if (e.origin !== base || !e.data || e.data.type !== 'par:height') return;
    const h = Number(e.data.height);
    const f = frames.find(x => x.contentWindow === e.source);
    if (f && h > 0 && h < 100000) f.style.height = `${Math.ceil(h)}px`;
  });
})();
