// Survey form enhancement: communes, required checks, JSON submit with safe retry, receipt.
(() => {
const d = document;
d.documentElement.classList.add('js');
const form = d.getElementById('survey');
if (!form || !window.fetch || !window.crypto) return;
const el = form.elements, msg = form.dataset;
const $$ = (s, r) => Array.from((r || d).querySelectorAll(s));
const on = (t, ev, f) => t.addEventListener(ev, f);
const val = n => { const x = el.namedItem(n); return x ? x.value : ''; };
const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ', SENT = 'survey.sent';

// ULID: 48-bit time + 80 random bits
const ulid = () => {
  let t = Date.now(), s = '';
  for (let i = 0; i < 10; i++) { s = B32[t % 32] + s; t = Math.floor(t / 32); }
  crypto.getRandomValues(new Uint8Array(16)).forEach(b => { s += B32[b % 32]; });
  return s;
};
const age = id => Date.now() - [...id.slice(0, 10)].reduce((t, c) => t * 32 + B32.indexOf(c), 0);
const sent = id => { // ids sent from here
  try {
    const ids = JSON.parse(localStorage.getItem(SENT) || '[]');
    return id ? localStorage.setItem(SENT, JSON.stringify(ids.concat(id).slice(-20))) : ids;
  } catch (x) { return []; }
};
// A page already sent (back, bfcache) or stale gets a fresh id
const freshen = force => {
  if (force || sent().includes(val('id')) || age(val('id')) > 864e5) {
    el.namedItem('id').value = ulid();
    if (!force) el.namedItem('started_at').value = new Date().toISOString();
  }
};
freshen();
addEventListener('pageshow', e => { if (e.persisted) freshen(); });

// page_ms: time per section holding focus, page visible
const ms = {};
let cur = null, t0 = performance.now(), off = d.hidden, dirty = true;
const tick = () => {
  const now = performance.now();
  if (cur && !off) ms[cur] = (ms[cur] || 0) + Math.round(now - t0);
  t0 = now;
};
const enter = e => {
  const s = e.target.closest('[data-s]');
  if (s && s.dataset.s !== cur) { tick(); cur = s.dataset.s; }
};
on(form, 'focusin', enter);
on(form, 'input', e => { enter(e); dirty = true; });
on(d, 'visibilitychange', () => { tick(); off = d.hidden; });

// Communes (a failed load leaves "Không chọn")
const prov = el.namedItem('province'), com = el.namedItem('commune'), cache = {};
const loadCommunes = async () => {
  const code = prov.value, none = com.options[0], idle = none.text;
  com.length = 1;
  if (!code) return;
  none.text = msg.loading;
  try {
    cache[code] = cache[code] || fetch(msg.geo + encodeURIComponent(code) + '/communes')
      .then(r => r.ok ? r.json() : Promise.reject(r.status));
    const list = (await cache[code]).communes || [];
    if (prov.value === code) list.forEach(c => com.add(new Option(c.name, c.code)));
  } catch (x) {
    delete cache[code];
  }
  none.text = idle;
};
on(prov, 'change', loadCommunes);
if (prov.value && com.length < 2) loadCommunes();

// Errors go where the server puts them.
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
    const at = row ? null : c.querySelector('.opts,textarea,select,input[type=text]');
    (row ? c.querySelector('th') : at.parentNode).insertBefore(e, at);
    list.forEach(i => {
      i.setAttribute('aria-invalid', 'true');
      describe(i, (i.getAttribute(ADB) || '') + ' ' + id);
    });
    // one entry per matrix and message, as on the server
    const q = row ? label(c.closest('.mx')) : label(c), key = row ? q + m : name;
    const g = groups[key] = groups[key] || { n: 0, a: ul.appendChild(d.createElement('li')).appendChild(d.createElement('a')) };
    if (!g.n++) {
      g.a.href = '#' + list[0].id;
      on(g.a, 'click', ev => { ev.preventDefault(); list[0].focus(); });
    }
    g.a.textContent = q + (!row ? '' : g.n > 1 ? ' (' + g.n + ' dòng)' : ' — ' + label(c)) + ': ' + m;
    first = first || list[0];
  });
  const h = d.createElement('h2');
  h.textContent = msg.summary.replace('{n}', ul.children.length);
  sum.append(h, ul);
  sum.hidden = false;
  (first || sum).focus();
};
const answered = c => $$('input,select,textarea', c).some(i => !i.name.endsWith('__other') &&
  (i.type === 'radio' || i.type === 'checkbox' ? i.checked : i.value.trim() !== ''));

// The body form_to_submission (pages.py) would build.
const build = () => {
  const answers = {}, v = val('survey_version').trim();
  for (const i of el) {
    const n = i.name;
    if (!n || i.disabled || i.type === 'hidden' || /^(province|commune|website)$/.test(n)) continue;
    if (i.type === 'checkbox') {
      if (i.checked && !(answers[n] = answers[n] || []).includes(i.value)) answers[n].push(i.value);
    } else if (i.type === 'radio') {
      if (i.checked && !(n in answers)) answers[n] = i.value;
    } else if (i.value.trim()) answers[n] = i.value;
  }
  const paradata = { started_at: val('started_at'), client: 'form-html/1', submitted_at: new Date().toISOString() };
  tick();
  const keys = Object.keys(ms);
  if (keys.length) paradata.page_ms = keys.slice(0, 50).reduce((o, k) => (o[k] = ms[k], o), {});
  const body = { id: val('id').trim(), survey_version: /^\d+$/.test(v) ? +v : v, channel: val('channel'),
    province: val('province'), answers, paradata };
  ['commune','website','attribution'].forEach(n => val(n) && (body[n] = val(n)));
  return body;
};

// Retry re-sends the same body (same id): same receipt
let pending = null;
const retry = d.getElementById('retry');
const say = (m, again) => { status.textContent = m; retry.hidden = !again; };
on(retry, 'click', () => send(pending));
const fail = (body, m) => {
  pending = body;
  dirty = false;
  say(m + ' ' + msg.kept, true);
};
const done = (r, body) => {
  sent(body.id);
  pending = null;
  const box = d.getElementById('receipt-tpl').content.firstElementChild.cloneNode(true);
  box.querySelector('.code strong').textContent = r.receipt || body.id;
  box.querySelector('a.mine').href = '/r/' + (r.receipt || body.id);
  box.querySelector('.at').textContent = ' lúc ' +
    new Date(r.received_at || Date.now()).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) + ' (giờ Việt Nam)';
  form.replaceWith(box);
  box.firstElementChild.focus();
};
const send = async (body, renewed) => {
  btn.disabled = true;
  say(msg.sending);
  let r, j;
  try {
    r = await fetch(msg.api, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    j = await r.json().catch(() => ({}));
  } catch (x) {
    return fail(body, msg.offline);
  } finally {
    btn.disabled = false;
  }
  if (r.ok) return done(j, body);
  const err = j.error || {};
  if (r.status > 499 || r.status === 429) return fail(body, err.message || msg.busy);
  if (err.code === 'response_id_conflict' && !renewed) { freshen(true); return send(build(), true); }
  say('');
  show([[(err.field || '').split('/').filter(Boolean).pop(), err.message || msg.invalid]]);
};

on(form, 'submit', e => {
  e.preventDefault();
  if (pending && !dirty) return send(pending);
  const errs = $$('[data-q][data-r]', form).filter(c => !answered(c)).map(c => [c.dataset.q, c.dataset.m || msg.req]);
  say('');
  if (errs.length) return show(errs);
  clear();
  send(build());
});
})();
