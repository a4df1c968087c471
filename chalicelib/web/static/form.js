// Survey form enhancement: one section per page, live conditions (#logic: JSON Schema fragments), inline checks,
// answers kept in the browser, a queue that re-sends the same body (same ULID: counted once) when the network returns.
(() => {
const d = document, msgs = {};
d.documentElement.classList.add('js');
const $$ = (s, r) => Array.from((r || d).querySelectorAll(s));
const on = (t, ev, f) => t.addEventListener(ev, f);
const mem = {}; // storage refused (a widget's third-party frame with storage blocked): kept for this page only
const store = (k, v) => { // localStorage as JSON; v === null removes
  try {
    if (v === undefined) return JSON.parse(localStorage.getItem(k));
    v === null ? localStorage.removeItem(k) : localStorage.setItem(k, JSON.stringify(v));
  } catch (x) {
    if (v === undefined) return k in mem ? JSON.parse(mem[k]) : null;
    v === null ? delete mem[k] : (mem[k] = JSON.stringify(v));
  }
};
const QUEUE = 'survey.queue', SENT = 'survey.sent';
const sent = id => { // ids answered by the server from this browser
  const ids = store(SENT) || [];
  return id ? store(SENT, ids.concat(id).slice(-20)) : ids;
};
const queued = () => store(QUEUE) || [];
const unqueue = id => store(QUEUE, queued().filter(j => j.body.id !== id));

// The queue: sent in order; a network failure, 5xx or 429 stops it and keeps the rest for later.
let busy = false, mine = null;
const flush = async () => {
  if (busy || !window.fetch) return;
  busy = true;
  let failed = '', job;
  while ((job = queued()[0])) {
    let r, j;
    try {
      r = await fetch(job.api, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(job.body) });
      j = await r.json().catch(() => ({}));
    } catch (x) {
      failed = 'offline';
      break;
    }
    if (r.status > 499 || r.status === 429) {
      failed = (j.error || {}).message || 'busy';
      break;
    }
    unqueue(job.body.id); // answered: a receipt, or a refusal that sending again would not change
    if (r.ok) sent(job.body.id);
    if (mine) mine(r, j, job.body);
  }
  busy = false;
  return failed;
};
on(window, 'online', () => flush().then(f => mine && f !== undefined && mine.after(f)));

const form = d.getElementById('survey');
if (!form || !window.fetch || !window.crypto) return flush();
const el = form.elements, msg = form.dataset, KEY = 'survey.draft.' + msg.draft;
const val = n => { const x = el.namedItem(n); return x ? x.value : ''; };
const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulid = () => { // 48-bit time + 80 random bits
  let t = Date.now(), s = '';
  for (let i = 0; i < 10; i++) { s = B32[t % 32] + s; t = Math.floor(t / 32); }
  crypto.getRandomValues(new Uint8Array(16)).forEach(b => { s += B32[b % 32]; });
  return s;
};
const age = id => Date.now() - [...id.slice(0, 10)].reduce((t, c) => t * 32 + B32.indexOf(c), 0);
// A page already sent (back, bfcache) or stale gets a fresh id
const freshen = force => {
  if (force || sent().includes(val('id')) || age(val('id')) > 864e5) {
    el.namedItem('id').value = ulid();
    if (!force) el.namedItem('started_at').value = new Date().toISOString();
  }
};
addEventListener('pageshow', e => { if (e.persisted) freshen(); });

// --- conditions: a JSON Schema subset over the answers object ----------------------------------------
// #logic (Survey.client_logic): sections {id: condition}; items {id: {r: shown, q: required, c/m: constraint and
// message, f: [[condition, option values]]: choice filter}}
const L = JSON.parse((d.getElementById('logic') || {}).textContent || '{}'), SL = L.sections || {}, QL = L.items || {};
form.holds = (s, v) => holds(s, v); // for the conformance test against chalicelib/domain/logic.py
const holds = window.surveyLogic.holds; // static/logic.js, loaded before this script

// The answers as the server reads them (forms.py): typed, only from enabled fields (static/logic.js).
const answers = () => window.surveyLogic.answersOf(el, form, /^(province|commune|website)$/);

const secs = $$('.sec', form), boxes = $$('[data-q]', form), groups = $$('[data-g]', form);
boxes.forEach(c => { c.r0 = c.hasAttribute('data-r'); });
const off = c => !!c.closest('.off');
const text = m => (m && typeof m === 'object' ? m.vi : m) || msg.bad;
// Hidden questions are disabled (not sent) and not required; options a choice filter rules out are hidden too.
const apply = () => {
  for (let round = 0; round < 5; round++) {
    const a = answers(), before = JSON.stringify(a);
    secs.forEach(s => s.classList.toggle('off', !holds(SL[s.dataset.s], a)));
    boxes.forEach(c => {
      const q = QL[c.dataset.q] || {};
      c.classList.toggle('off', !holds(q.r, a));
      c.toggleAttribute('data-r', q.q ? holds(q.q, a) : c.r0);
    });
    groups.forEach(g => g.classList.toggle('off', $$('[data-q]', g).every(r => r.classList.contains('off'))));
    boxes.forEach(c => {
      const q = QL[c.dataset.q] || {}, offered = v => { const g = (q.f || []).find(x => x[1].includes(v)); return !g || holds(g[0], a); };
      $$('input,select,textarea', c).forEach(i => {
        const hide = /radio|checkbox/.test(i.type) && !offered(i.value);
        if (q.f) (i.closest('.opt') || i).hidden = hide;
        i.disabled = off(i) || hide;
        if (hide) i.checked = false;
      });
      if (q.f) $$('option', c).forEach(o => { o.hidden = o.disabled = !offered(o.value); });
    });
    if (JSON.stringify(answers()) === before) break;
  }
};

// --- checks, in Vietnamese, where the server would put them -------------------------------------------
const answered = c => $$('input,select,textarea', c).some(i => !i.disabled && !i.name.endsWith('__other') &&
  (i.type === 'radio' || i.type === 'checkbox' ? i.checked : i.value.trim() !== ''));
const problems = scope => {
  const a = answers(), out = [];
  $$('[data-q]', scope).filter(c => !off(c)).forEach(c => {
    const name = c.dataset.q, q = QL[name] || {}, i = el.namedItem(name), v = i && i.validity;
    const fill = (m, x) => m.replace('{v}', x);
    if (!answered(c)) return c.hasAttribute('data-r') && out.push([name, c.dataset.m || msg.req]);
    const m = v && (v.badInput ? msg.num : v.stepMismatch ? msg.int : v.rangeUnderflow ? fill(msg.min, i.min)
      : v.rangeOverflow ? fill(msg.max, i.max) : '') ||
      (c.dataset.max && (a[name] || []).length > +c.dataset.max ? fill(msg.many, c.dataset.max) : '') ||
      (q.c && !holds(q.c, a) ? text(q.m) : '');
    if (m) out.push([name, m]);
  });
  return out;
};

const sum = d.getElementById('errsum'), status = d.getElementById('status');
const btn = form.querySelector('[type=submit]');
const ADB = 'aria-describedby', describe = (i, ids) => i.setAttribute(ADB, ids.trim()); // "" describes nothing
const clear = () => {
  $$('.err', form).forEach(e => e.remove());
  $$('[aria-invalid]', form).forEach(i => {
    i.removeAttribute('aria-invalid');
    describe(i, (i.getAttribute(ADB) || '').split(' ').filter(x => !x.startsWith('e-')).join(' '));
  });
  sum.hidden = true;
  sum.textContent = '';
};
const label = c => c.querySelector('[id^="t-"]').textContent;
const show = errs => {
  clear();
  const ul = d.createElement('ul'), groups = {};
  let first = null;
  errs.forEach(([name, m]) => {
    const x = name && el.namedItem(name), list = x instanceof RadioNodeList ? Array.from(x) : x ? [x] : [];
    const c = list.length && list[0].closest('[data-q]');
    if (!c) return (ul.appendChild(d.createElement('li')).textContent = m);
    const id = 'e-' + name, row = c.tagName === 'TR', e = d.createElement(row ? 'span' : 'p');
    Object.assign(e, { className: 'err', id, textContent: m });
    const at = row ? null : c.querySelector('.opts,.opt,textarea,select,input:not([type=hidden])');
    (row ? c.querySelector('th') : at.parentNode).insertBefore(e, at);
    list.forEach(i => {
      i.setAttribute('aria-invalid', 'true');
      describe(i, (i.getAttribute(ADB) || '') + ' ' + id);
    });
    // one entry per matrix and message, as on the server
    const q = row ? label(c.closest('.mx')) : label(c), key = row ? q + m : name;
    const g = groups[key] = groups[key] || { n: 0, a: ul.appendChild(d.createElement('li')).appendChild(d.createElement('a')) };
    if (!g.n++) g.a.href = '#' + list[0].id;
    g.a.textContent = q + (!row ? '' : g.n > 1 ? ' (' + g.n + ' dòng)' : ' — ' + label(c)) + ': ' + m;
    first = first || list[0];
  });
  const h = d.createElement('h2');
  h.textContent = msg.summary.replace('{n}', ul.children.length);
  sum.append(h, ul);
  sum.hidden = false;
  if (first) reveal(first);
  (first || sum).focus();
};
on(sum, 'click', e => { // a summary link opens the page its field is on
  const a = e.target.closest('a'), i = a && d.getElementById(a.hash.slice(1));
  if (i) { e.preventDefault(); reveal(i); i.focus(); }
});

// --- pages: one section at a time, the ones whose condition does not hold skipped ------------------------
const mk = (tag, props, parent) => parent.appendChild(Object.assign(d.createElement(tag), props));
const top = d.createElement('div'), nav = d.createElement('div');
top.className = 'pager';
nav.className = 'nav';
const prog = mk('p', { id: 'pg', className: 'prog' }, top), bar = mk('progress', {}, top);
bar.setAttribute('aria-labelledby', 'pg');
const back = mk('button', { type: 'button', className: 'btn alt', textContent: msg.back }, nav);
const next = mk('button', { type: 'button', className: 'btn', textContent: msg.next }, nav);
sum.after(top);
secs[secs.length - 1].after(nav);
const tail = [form.querySelector('.privacy'), btn.parentNode];
let page = secs[0];
const shown = () => secs.filter(s => !s.classList.contains('off'));
const go = (s, focus) => {
  const list = shown(), n = list.indexOf(s) + 1;
  page = s;
  secs.forEach(x => { x.hidden = x !== s; });
  tail.forEach(x => { x.hidden = n < list.length; });
  back.hidden = n < 2;
  next.hidden = n === list.length;
  prog.textContent = msg.page.replace('{i}', n).replace('{n}', list.length);
  bar.max = list.length;
  bar.value = n;
  if (focus) s.querySelector('h2').focus();
  save();
};
const reveal = i => { const s = i.closest('.sec'); if (s !== page) go(s); };
const step = k => {
  const list = shown(), s = list[list.indexOf(page) + k];
  if (k > 0) {
    const errs = problems(page);
    if (errs.length) return show(errs);
  }
  clear();
  if (s) go(s, true);
};
on(back, 'click', () => step(-1));
on(next, 'click', () => step(1));

// --- the draft: answers kept in the browser until a receipt ---------------------------------------------
function save() {
  const v = [];
  for (const i of el) { // a commune list still loading keeps the value it will be given
    const x = i.dataset.keep || i.value;
    if (i.name && i.type !== 'hidden' && i.name !== 'website' && (!/radio|checkbox/.test(i.type) || i.checked) && x) v.push([i.name, x]);
  }
  store(KEY, { id: val('id'), started_at: val('started_at'), page: page.dataset.s, v });
}
const draft = store(KEY);
if (draft && !sum.children.length && !sent().includes(draft.id)) {
  el.namedItem('id').value = draft.id;
  el.namedItem('started_at').value = draft.started_at;
  for (const i of el) {
    if (!i.name || i.type === 'hidden' || i.name === 'website') continue;
    const got = draft.v.filter(p => p[0] === i.name).map(p => p[1]);
    if (i.type === 'radio' || i.type === 'checkbox') i.checked = got.includes(i.value);
    else if (i.tagName !== 'SELECT' || !i.dataset.parent) i.value = got[0] || '';
    else i.dataset.keep = got[0] || '';
  }
}
freshen();

// page_ms: time per section holding focus, page visible
const ms = {};
let cur = null, t0 = performance.now(), hid = d.hidden, dirty = true;
const tick = () => {
  const now = performance.now();
  if (cur && !hid) ms[cur] = (ms[cur] || 0) + Math.round(now - t0);
  t0 = now;
};
const enter = e => {
  const s = e.target.closest('[data-s]');
  if (s && s.dataset.s !== cur) { tick(); cur = s.dataset.s; }
};
on(form, 'focusin', enter);
on(form, 'input', e => { enter(e); dirty = true; save(); });
on(form, 'change', () => { apply(); go(page); });
on(d, 'visibilitychange', () => { tick(); hid = d.hidden; });

// Communes follow the chosen province (a failed load leaves the first, empty choice)
const cache = {};
const communes = async sel => {
  const p = el.namedItem(sel.dataset.parent), code = p.value, none = sel.options[0], idle = none.text;
  sel.length = 1;
  if (!code) return;
  none.text = msg.loading;
  try {
    cache[code] = cache[code] || fetch(msg.geo + encodeURIComponent(code) + '/communes')
      .then(r => r.ok ? r.json() : Promise.reject(r.status));
    const list = (await cache[code]).communes || [];
    if (p.value === code) list.forEach(c => sel.add(new Option(c.name, c.code)));
    if (sel.dataset.keep) sel.value = sel.dataset.keep;
  } catch (x) {
    delete cache[code];
  }
  sel.dataset.keep = '';
  none.text = idle;
};
$$('select[data-parent]', form).forEach(s => {
  const p = el.namedItem(s.dataset.parent);
  if (!p) return;
  on(p, 'change', () => communes(s));
  if (p.value && s.length < 2) communes(s);
});

// The body form_to_submission (forms.py) would build.
const build = () => {
  const v = val('survey_version').trim();
  const paradata = { started_at: val('started_at'), client: 'form-html/1', submitted_at: new Date().toISOString() };
  tick();
  const keys = Object.keys(ms);
  if (keys.length) paradata.page_ms = keys.slice(0, 50).reduce((o, k) => (o[k] = ms[k], o), {});
  const body = { id: val('id').trim(), survey_version: /^\d+$/.test(v) ? +v : v, channel: val('channel'),
    province: val('province'), answers: answers(), paradata };
  ['commune', 'website', 'attribution'].forEach(n => { if (val(n)) body[n] = val(n); });
  return body;
};

const retry = d.getElementById('retry');
const say = (m, again) => { status.textContent = m; retry.hidden = !again; };
const done = (r, body) => {
  store(KEY, null);
  const box = d.getElementById('receipt-tpl').content.firstElementChild.cloneNode(true);
  box.querySelector('.code strong').textContent = r.receipt || body.id;
  box.querySelector('a.mine').href = '/r/' + (r.receipt || body.id);
  box.querySelector('.at').textContent = ' lúc ' +
    new Date(r.received_at || Date.now()).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) + ' (giờ Việt Nam)';
  [top, form].forEach(x => x.remove());
  mine = null;
  d.querySelector('main').prepend(box);
  box.firstElementChild.focus();
};
let renewed = false;
// The server's answer to this form's body, sent now or from the queue
mine = (r, j, body) => {
  if (body.id !== val('id')) return;
  if (r.ok) return done(j, body);
  const err = j.error || {};
  if (err.code === 'response_id_conflict' && !renewed) { // this id went with other answers: send these as new
    renewed = true;
    freshen(true);
    return submit();
  }
  say('');
  show([[(err.field || '').split('/').filter(Boolean).pop(), err.message || msg.invalid]]);
};
mine.after = f => {
  btn.disabled = false;
  if (f) say((f === 'offline' ? msg.offline : f === 'busy' ? msg.busy : f) + ' ' + msg.queued, true);
};
const submit = () => {
  const body = build();
  store(QUEUE, queued().filter(j => j.body.id !== body.id).concat({ api: msg.api, body }));
  dirty = false;
  return send();
};
const send = () => {
  btn.disabled = true;
  say(msg.sending);
  return flush().then(f => mine && mine.after(f));
};
on(retry, 'click', send);
on(form, 'submit', e => {
  e.preventDefault();
  const list = shown();
  if (page !== list[list.length - 1]) return step(1);
  if (!dirty && queued().some(j => j.body.id === val('id'))) return send();
  const errs = list.flatMap(problems);
  say('');
  if (errs.length) return show(errs);
  clear();
  submit();
});

apply();
go(secs.find(s => s.dataset.s === (draft || {}).page && !s.classList.contains('off')) || shown()[0]);
queued().some(j => j.body.id === val('id')) ? send() : flush();
})();
