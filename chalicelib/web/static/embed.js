/* PAR/SIPAS survey widget loader for agencies' web sites (Bộ Nội vụ).
 *   <div data-par-survey="sipas-2026" data-par-agency="P01"></div>            the form, inline (default)
 *   <div data-par-survey="sipas-2026" data-par-agency="P01" data-par-mode="prompt"
 *        data-par-location="P01-MC-03" data-par-question="q9_23"></div>     a 5-point "how satisfied" prompt
 *   <script src="https://<platform>/static/embed.js" async></script>
 * Inline: an iframe of /s/{survey}?embed=1&agency=…&location=…&via=widget that grows to the form's height
 * (static/frame.js, inside the widget page, posts it). Prompt: choosing a point opens that form in a modal
 * dialog, the point pre-filled into data-par-question (a par:answer message to frame.js).
 * Each widget lives in a Shadow DOM: the host's CSS does not reach it and its CSS does not reach the host.
 * No cookies, no storage, one global (window.ParSurvey). The platform lets only the agency's registered
 * origins frame the form (CSP frame-ancestors) and records agency, channel and location server-side. */
(() => {
  'use strict';
  const d = document, W = window;
  if (W.ParSurvey && W.ParSurvey.scan) return W.ParSurvey.scan();
  const me = d.currentScript || d.querySelector('script[src*="/static/embed.js"]');
  if (!me) return;
  const base = new URL(me.src).origin, code = /^[A-Za-z0-9._-]{1,64}$/, widgets = [];
  const TITLE = 'Phiếu khảo sát sự hài lòng — Bộ Nội vụ';
  const POINTS = ['Rất không hài lòng', 'Không hài lòng', 'Bình thường', 'Hài lòng', 'Rất hài lòng'];
  const CSS = `.w{all:initial;display:block;font:medium/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;text-align:left}
[hidden]{display:none!important}
.w *{box-sizing:border-box;font-family:inherit;line-height:inherit;letter-spacing:normal;text-transform:none}
.f{all:initial;display:block;width:100%;min-height:480px;border:0}
.p{margin:0;padding:1em;border:1px solid #8c959f;border-radius:.5em;background:#fff;color:#1f2328;max-width:42em}
fieldset{margin:0;padding:0;border:0;min-width:0}
legend{padding:0;margin:0 0 .6em;font-size:1.125em;font-weight:700}
.en{display:block;font-size:.8em;font-weight:400;color:#57606a}
.o{display:flex;flex-wrap:wrap;gap:.5em;margin:0 0 .8em}
.o label{flex:1 1 7em;display:flex;flex-direction:column;align-items:center;gap:.3em;padding:.6em .3em;border:1px solid #8c959f;border-radius:.5em;background:#fff;cursor:pointer;text-align:center;font-size:.9375em;line-height:1.3}
.o label:hover{border-color:#0b5cad;background:#f0f6ff}
.o label:has(:checked){border-color:#0b5cad;background:#e3eefa;font-weight:700}
.o input{margin:0;width:1.25em;height:1.25em;accent-color:#0b5cad;cursor:pointer}
:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
.b,.x{display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;padding:.5em 1.1em;border:2px solid #0b5cad;border-radius:.4em;background:#0b5cad;color:#fff;font-size:1em;font-weight:700;cursor:pointer}
.b:hover{background:#084a8c}
.x{background:#fff;color:#0b5cad;padding:.4em .8em}
.s{margin:.6em 0;font-weight:700}
.s:empty{margin:0}
.d{padding:0;border:0;margin:auto;width:min(52em,calc(100% - 2em));max-width:100%;height:calc(100% - 2em);max-height:100%;border-radius:.5em;background:#fff;color:#1f2328;box-shadow:0 .5em 2em rgba(0,0,0,.35);overflow:hidden}
.d[open]{display:flex;flex-direction:column}
.d::backdrop{background:rgba(0,0,0,.6)}
.h{display:flex;align-items:center;justify-content:space-between;gap:.75em;padding:.4em .5em .4em 1em;border-bottom:1px solid #d0d7de}
.h h2{margin:0;font-size:1.0625em;font-weight:700}
.d iframe{flex:1 1 auto;display:block;width:100%;min-height:0;border:0}
.g{display:block;width:0;height:0;overflow:hidden}
@media (max-width:40em){.d{width:100%;height:100%;border-radius:0}}`;
  let sheet = null;

  // A shadow root for the element, with our stylesheet (constructed: allowed under a host's strict style-src CSP).
  const shadow = el => {
    let root;
    try { root = el.attachShadow({ mode: 'open' }); } catch (x) { return null; }
    try {
      sheet = sheet || new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (x) {
      root.appendChild(d.createElement('style')).textContent = CSS;
    }
    const w = root.appendChild(d.createElement('div'));
    w.className = 'w';
    w.lang = 'vi';
    return w;
  };
  const make = (tag, props, parent) => {
    const e = Object.assign(d.createElement(tag), props);
    if (parent) parent.appendChild(e);
    return e;
  };
  const src = o => {
    const q = new URLSearchParams({ embed: '1' });
    if (o.agency) q.set('agency', o.agency);
    if (o.location) q.set('location', o.location);
    q.set('via', 'widget');
    return `${base}/s/${encodeURIComponent(o.survey)}?${q}`;
  };

  const inline = (el, o) => {
    const w = shadow(el);
    if (!w) return;
    const f = make('iframe', { className: 'f', title: o.title, loading: 'lazy', src: src(o) }, w);
    widgets.push({ frame: f, height: h => { f.style.height = `${Math.ceil(h)}px`; } });
  };

  const prompt = (el, o) => {
    const w = shadow(el);
    if (!w) return;
    const form = make('form', { className: 'p', noValidate: true }, w);
    const set = make('fieldset', {}, form);
    set.setAttribute('role', 'radiogroup'); // as the form's own scales
    const legend = make('legend', { textContent: 'Ông/Bà hài lòng thế nào với dịch vụ hôm nay?' }, set);
    make('span', { className: 'en', lang: 'en', textContent: 'How satisfied were you with the service today?' }, legend);
    const opts = make('div', { className: 'o' }, set);
    POINTS.forEach((text, n) => {
      const label = make('label', {}, opts);
      make('input', { type: 'radio', name: 'r', value: String(n + 1) }, label);
      make('span', { textContent: text }, label);
    });
    const go = make('button', { type: 'submit', className: 'b', textContent: 'Trả lời phiếu khảo sát' }, form);
    const status = make('p', { className: 's', tabIndex: -1 }, w);
    status.setAttribute('role', 'status');
    // after the receipt: the dialog again, to copy the receipt code once more
    const again = make('button', { type: 'button', className: 'b', textContent: 'Xem lại mã phiếu', hidden: true }, w);

    const dialog = make('dialog', { className: 'd' }, w);
    dialog.setAttribute('aria-modal', 'true');
    dialog.setAttribute('aria-labelledby', 'par-t');
    const first = make('span', { className: 'g', tabIndex: 0 }, dialog);
    const head = make('div', { className: 'h' }, dialog);
    make('h2', { id: 'par-t', textContent: 'Phiếu khảo sát sự hài lòng' }, head);
    const close = make('button', { type: 'button', className: 'x', textContent: 'Đóng', autofocus: true }, head);
    const last = make('span', { className: 'g', tabIndex: 0 }, dialog);
    const url = src(o);
    let frame = null, opener = null, done = false, shown = false, overflow = '';

    // The form loads as soon as the citizen comes near the prompt, so it is ready when the dialog opens. The
    // chosen point goes in by a message once the form's frame.js has spoken (its first height message).
    let ready = false, pending = null;
    const tell = () => {
      if (ready && pending) frame.contentWindow.postMessage(pending, base);
      if (ready) pending = null;
    };
    const load = () => {
      if (frame) return;
      frame = make('iframe', { title: o.title, src: url });
      dialog.insertBefore(frame, last);
      widgets.push({ frame, done: finish, escape: shut, ready: () => { ready = true; tell(); } });
    };
    const open = (value, from) => {
      load();
      if (o.question && value) pending = { type: 'par:answer', question: o.question, value };
      tell();
      opener = from;
      if (dialog.open) return;
      shown = true;
      overflow = d.documentElement.style.overflow;
      d.documentElement.style.overflow = 'hidden'; // no scrolling of the page behind the dialog
      dialog.showModal(); // the rest of the page becomes inert; Esc closes
      close.focus();
    };
    const finish = () => {
      done = true;
      form.hidden = true;
      again.hidden = false;
      status.textContent = 'Cảm ơn Ông/Bà đã tham gia khảo sát!';
    };
    const restore = () => {
      if (!shown) return;
      shown = false;
      d.documentElement.style.overflow = overflow;
      (opener === again ? again : done ? status : opener || go).focus();
    };
    const shut = () => {
      if (dialog.open) dialog.close();
      restore(); // now: the close event comes a task later (and is all we hear of the browser's own Esc)
    };
    dialog.addEventListener('close', restore);
    close.addEventListener('click', shut);
    again.addEventListener('click', () => open('', again));
    // Focus stays in the dialog: past the end back to the close button, before it into the form's last field.
    last.addEventListener('focus', () => close.focus());
    first.addEventListener('focus', e => {
      if (!frame || e.relatedTarget !== close) return close.focus();
      frame.focus();
      frame.contentWindow.postMessage({ type: 'par:focus', to: 'last' }, base);
    });

    // A pointer choice opens the form at once; with the keyboard, arrows move and Enter or the button opens it.
    let pointer = false;
    ['pointerover', 'focusin'].forEach(ev => form.addEventListener(ev, load, { once: true }));
    form.addEventListener('pointerdown', () => { pointer = true; });
    form.addEventListener('keydown', () => { pointer = false; });
    form.addEventListener('click', e => { // a radio's click: also on arrow keys and Space, hence the flag
      if (e.target.name !== 'r') return; // (a click on a label comes first, then the click on its radio)
      if (pointer) open(e.target.value, e.target);
      pointer = false;
    });
    form.addEventListener('submit', e => {
      e.preventDefault();
      const chosen = form.querySelector('input:checked');
      open(chosen ? chosen.value : '', chosen || go);
    });
  };

  const scan = () => d.querySelectorAll('[data-par-survey]').forEach(el => {
    const a = el.dataset;
    if (a.parReady) return;
    const o = { survey: a.parSurvey || '', agency: a.parAgency || '', location: a.parLocation || '',
      question: a.parQuestion || '', title: a.parTitle || TITLE };
    if (!code.test(o.survey) || ['agency', 'location', 'question'].some(k => o[k] && !code.test(o[k]))) return;
    a.parReady = '1';
    (a.parMode === 'prompt' ? prompt : inline)(el, o);
  });

  // Messages from the widget pages: only from the platform's origin, from one of our frames, of a known shape.
  const SHAPES = { 'par:height': 'height,type', 'par:done': 'type', 'par:escape': 'type' };
  addEventListener('message', e => {
    const m = e.data, keys = m && typeof m === 'object' ? Object.keys(m).sort().join() : '';
    if (e.origin !== base || !keys || SHAPES[m.type] !== keys || !SHAPES.hasOwnProperty(m.type)) return;
    const w = widgets.find(x => x.frame.contentWindow === e.source);
    if (!w) return;
    if (w.ready) w.ready();
    const h = Number(m.height);
    if (m.type === 'par:height' && w.height && h > 0 && h < 100000) w.height(h);
    if (m.type === 'par:done' && w.done) w.done();
    if (m.type === 'par:escape' && w.escape) w.escape();
  });

  W.ParSurvey = { version: 2, scan };
  scan();
})();
