// The enumerators' field app (/field/): works for days with no network. Everything is kept in IndexedDB:
//   device      the device token (from /admin/field/device) and a random device id made once
//   package     the assignments and each survey version's form (/field/api/package, /field/form/{id}/{v})
//   interviews  interviews in progress: the household's adults and the one to interview, answers saved on every
//               change, active time from the monotonic clock
//   outbox      finished visits, each with the ULID made when the visit started (the server's exactly-once key)
//   sent        what the server acknowledged, per household
// Sync: each outbox item is POSTed to /field/api/visits; 201/200 removes it, 409 keeps it as a conflict, 401 asks
// to link again, another 4xx keeps it with its error (never dropped), a network error or 5xx retries with backoff.
(() => {
const d = document, $ = id => d.getElementById(id), $$ = (s, r) => Array.from((r || d).querySelectorAll(s));
const STORES = ['device', 'package', 'interviews', 'outbox', 'sent'];
const APP_VERSION = (d.body && d.body.dataset.version) || 'link';

// --- IndexedDB ------------------------------------------------------------------------------------------
let dbp = null;
const db = () => dbp || (dbp = new Promise((ok, ko) => {
  const r = indexedDB.open('par-field', 1);
  r.onupgradeneeded = () => STORES.forEach(n => r.result.objectStoreNames.contains(n) || r.result.createObjectStore(n, { keyPath: 'id' }));
  r.onsuccess = () => ok(r.result);
  r.onerror = () => ko(r.error);
}));
const tx = async (store, mode, fn) => {
  const t = (await db()).transaction(store, mode), req = fn(t.objectStore(store));
  return new Promise((ok, ko) => {
    t.oncomplete = () => ok(req ? req.result : undefined);
    t.onerror = t.onabort = () => ko(t.error);
  });
};
const get = (s, id) => tx(s, 'readonly', o => o.get(id));
const put = (s, v) => tx(s, 'readwrite', o => { o.put(v); });
const putAll = (s, list) => tx(s, 'readwrite', o => { list.forEach(v => o.put(v)); });
const del = (s, id) => tx(s, 'readwrite', o => { o.delete(id); });
const all = s => tx(s, 'readonly', o => o.getAll());
const count = s => tx(s, 'readonly', o => o.count());

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulid = () => { // 48-bit time + 80 random bits, made when the visit starts
  let t = Date.now(), s = '';
  for (let i = 0; i < 10; i++) { s = B32[t % 32] + s; t = Math.floor(t / 32); }
  crypto.getRandomValues(new Uint8Array(16)).forEach(b => { s += B32[b % 32]; });
  return s;
};
const hex = n => Array.from(crypto.getRandomValues(new Uint8Array(n)), b => b.toString(16).padStart(2, '0')).join('');

// --- the linking page (/admin/field/device): the token goes to this device's storage, then the app opens ----------
const link = $('field-link');
if (link) {
  const given = JSON.parse(link.textContent);
  get('device', 'device').then(old => put('device', {
    id: 'device', token: given.token, expires_at: given.expires_at, enumerator: given.enumerator,
    device_id: (old && old.device_id) || hex(16), linked_at: new Date().toISOString(),
  })).then(() => {
    $('linking').textContent = 'Đã liên kết thiết bị. Đang mở ứng dụng…';
    location.assign('/field/');
  });
  return;
}
if (!$('v-home')) return;

// --- the shell -------------------------------------------------------------------------------------------
const LABELS = { completed: 'Đã phỏng vấn', refused: 'Từ chối', not_at_home: 'Vắng nhà', vacant: 'Nhà trống' };
const el = (tag, props, parent, text) => {
  const e = Object.assign(d.createElement(tag), props || {});
  if (text !== undefined) e.textContent = text;
  return parent ? parent.appendChild(e) : e;
};
const flash = m => { const f = $('flash'); f.textContent = m; f.hidden = !m; };
let device = null, pkg = null, online = navigator.onLine, needsLink = false;
const net = up => {
  online = up;
  const n = $('net');
  n.textContent = up ? 'Có mạng' : 'Không có mạng — phiếu được lưu trên máy';
  n.classList.toggle('off', !up);
};
const unsent = async () => { $('unsent').textContent = String(await count('outbox')); };
const show = (view, heading) => {
  $$('.view').forEach(v => { v.hidden = v.id !== view; });
  if (heading !== undefined) $('h-' + view.slice(2)).textContent = heading;
};
const hhKey = h => `${h.year}/${h.sample_id}/${h.commune_code}-${h.village_code}-${h.position}`;

// The package as the app reads it: villages with their households (main ones first, then replacements in order).
const villages = () => {
  const out = [];
  ((pkg && pkg.data.assignments) || []).forEach(a => (a.villages || []).forEach(v => {
    const hh = (v.households || []).map(h => ({
      ...h, year: a.year, sample_id: a.sample_id, commune_code: v.commune_code, village_code: v.village_code,
      replacement: +(h.replacement || h.replacement_rank || 0),
    }));
    hh.sort((x, y) => x.replacement - y.replacement || (x.replacement ? 0 : 0));
    out.push({ key: `${a.sample_id}/${v.commune_code}-${v.village_code}`, assignment: a, village: v, households: hh,
      survey_id: a.survey_id, survey_version: +(a.survey_version || surveyOf(a.survey_id).version || 0) });
  }));
  return out;
};
const surveysIn = data => { // {survey_id: {version, definition}} (a list of {id, version} read too)
  const s = (data && data.surveys) || {};
  return Array.isArray(s) ? s.map(x => [x.survey_id || x.id, x]) : Object.entries(s);
};
const surveyOf = id => (surveysIn(pkg && pkg.data).find(e => e[0] === id) || [0, {}])[1];
const villageName = v => [v.village.village_name || v.village.name || ('Thôn ' + v.village.village_code),
  v.village.commune_name || ('xã ' + v.village.commune_code)].join(', ');

const route = async () => {
  const h = location.hash.slice(1);
  await unsent();
  if (!device || needsLink) return show('v-link');
  if (h.startsWith('v/')) return openVillage(decodeURIComponent(h.slice(2)));
  if (h.startsWith('i/')) return openInterview(h.slice(2));
  if (h === 'outbox') return openOutbox();
  return openHome();
};

const openHome = async () => {
  show('v-home');
  const e = device.enumerator || {};
  $('who').textContent = `Điều tra viên: ${e.name || e.username || e.sub || ''} (${e.agency || ''}) · thiết bị ${device.device_id.slice(0, 8)}`;
  $('pkg-at').textContent = pkg ? 'Danh sách tải lúc ' + new Date(pkg.fetched_at).toLocaleString('vi-VN') : 'Chưa tải danh sách: hãy bấm “Tải danh sách và phiếu” khi có mạng.';
  const ul = $('villages'), going = await all('interviews');
  ul.textContent = '';
  going.forEach(i => {
    const li = el('li', { className: 'card' }, ul);
    el('a', { href: '#i/' + i.id, className: 'resume' }, li, `Tiếp tục phỏng vấn dở: hộ số ${i.household.position} (${i.household.village_code})`);
  });
  const sent = await all('sent'), box = new Set([...(await all('outbox')).map(o => hhKey(o.visit.household)), ...sent.map(s => s.id)]);
  villages().forEach(v => {
    const li = el('li', { className: 'card' }, ul), main = v.households.filter(h => !h.replacement);
    el('a', { href: '#v/' + encodeURIComponent(v.key) }, li, villageName(v));
    el('p', { className: 'muted' }, li, `${main.filter(h => box.has(hhKey(h))).length}/${main.length} hộ chính đã ghi kết quả · ${v.survey_id}`);
  });
};

const openVillage = async key => {
  const v = villages().find(x => x.key === key);
  if (!v) return openHome();
  show('v-village', villageName(v));
  const ol = $('households'), outbox = await all('outbox'), going = await all('interviews');
  const state = {};
  (await all('sent')).forEach(s => { state[s.id] = [LABELS[s.outcome] + ' · đã gửi', 'done']; });
  outbox.forEach(o => { state[hhKey(o.visit.household)] = [LABELS[o.visit.outcome] + ' · chưa gửi', 'done']; });
  ol.textContent = '';
  v.households.forEach(h => {
    const k = hhKey(h), li = el('li', { className: h.replacement ? 'repl' : '' }, ol), doing = going.find(i => hhKey(i.household) === k);
    li.dataset.household = `${h.commune_code}-${h.village_code}-${h.position}`;
    el('strong', {}, li, `Hộ số ${h.position}`);
    el('span', { className: 'muted' }, li, h.replacement ? ` — hộ dự phòng thứ ${h.replacement}` : ' — hộ chính');
    const st = state[k];
    if (st) { li.classList.add(st[1]); el('p', { className: 'state' }, li, st[0]); return; }
    const row = el('div', { className: 'outcomes' }, li);
    if (doing) return el('a', { className: 'btn', href: '#i/' + doing.id }, row, 'Tiếp tục phỏng vấn');
    el('button', { type: 'button', className: 'btn', onclick: () => startInterview(v, h) }, row, 'Phỏng vấn');
    ['refused', 'not_at_home', 'vacant'].forEach(o =>
      el('button', { type: 'button', className: 'btn alt', onclick: () => recordOutcome(v, h, o) }, row, LABELS[o]));
  });
};

const household = h => ({ year: +h.year, sample_id: h.sample_id, commune_code: h.commune_code, village_code: h.village_code, position: +h.position });
const paradataBase = () => ({ device_id: device.device_id, app_version: APP_VERSION });

const enqueue = async visit => {
  await put('outbox', { id: visit.id, visit, state: 'queued', error: '', tries: 0, queued_at: Date.now() });
  await unsent();
  askBackgroundSync();
  sync();
};

const recordOutcome = async (v, h, outcome) => {
  const now = new Date().toISOString();
  await enqueue({ id: ulid(), survey_id: v.survey_id, survey_version: v.survey_version, household: household(h), outcome,
    paradata: { ...paradataBase(), started_at: now, ended_at: now, duration_ms: 0 } });
  flash(`Hộ số ${h.position}: ${LABELS[outcome]} — đã lưu.`);
  openVillage(v.key);
};

// --- an interview -----------------------------------------------------------------------------------------
const startInterview = async (v, h) => {
  const rec = { id: ulid(), survey_id: v.survey_id, survey_version: v.survey_version, household: household(h), village: v.key,
    started_at: new Date().toISOString(), active_ms: 0, question_ms: {}, values: [], gps_consent: false, gps: null,
    adults: null, selected: null };
  await put('interviews', rec);
  location.hash = '#i/' + rec.id;
};

let cur = null; // the open interview: {rec, form, logic, last, q}

// --- one adult per household (docs/FIELDWORK.md): the enumerator lists the adults from oldest to youngest; the k-th
// is interviewed, k = 1 + (first 8 bytes of SHA-256("<sample_id>|<household_id>"), big-endian) mod n. The server
// recomputes it (chalicelib/domain/sampling.py adult_to_interview). SubtleCrypto needs no network.
const MAX_ADULTS = 30;
const adultsIn = text => { const n = Number(String(text).trim()); return String(text).trim() && Number.isInteger(n) && n >= 1 && n <= MAX_ADULTS ? n : 0; };
const adultToInterview = async (sampleId, householdId, n) => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${sampleId}|${householdId}`));
  return 1 + Number(new DataView(digest).getBigUint64(0, false) % BigInt(n));
};
const showPick = () => {
  const r = cur && cur.rec, box = $('pick');
  if (!r) return;
  box.textContent = '';
  $('ibody').hidden = !r.selected;
  if (r.selected) {
    box.append('Hãy liệt kê các thành viên từ lớn tuổi nhất đến nhỏ tuổi nhất và phỏng vấn ');
    el('strong', {}, box, `người thứ ${r.selected}`);
    box.append(` (trong ${r.adults} người từ 18 tuổi trở lên). Không thay bằng người khác trong hộ.`);
    el('small', { lang: 'en', className: 'en' }, box, ` List them from oldest to youngest and interview number ${r.selected}.`);
  } else if ($('adults').value.trim()) {
    box.textContent = r.pick_error || `Nhập một số nguyên từ 1 đến ${MAX_ADULTS}.`;
  } else {
    box.textContent = 'Nhập số người để biết cần phỏng vấn ai.';
  }
};
$('adults').addEventListener('input', async e => {
  if (!cur) return;
  const rec = cur.rec, text = e.target.value, n = adultsIn(text);
  let k = null, problem = '';
  if (n) {
    try { k = await adultToInterview(rec.household.sample_id, `${rec.household.commune_code}-${rec.household.village_code}-${rec.household.position}`, n); }
    catch (x) { problem = 'Thiết bị không tính được người cần phỏng vấn (trình duyệt không hỗ trợ SHA-256 trên trang này).'; }
  }
  if (!cur || cur.rec !== rec || $('adults').value !== text) return; // a later keystroke wins
  rec.adults = k ? n : null;
  rec.selected = k;
  rec.pick_error = problem;
  showPick();
  save();
});

const form = $('iform');
const tick = () => { // monotonic time: performance.now() deltas while the page is visible, summed into the record
  if (!cur) return;
  const now = performance.now();
  if (!d.hidden) {
    const dt = Math.max(0, Math.round(now - cur.last));
    cur.rec.active_ms += dt;
    if (cur.q) cur.rec.question_ms[cur.q] = (cur.rec.question_ms[cur.q] || 0) + dt;
  }
  cur.last = now;
};
const values = () => {
  const out = [];
  for (const i of form.elements) if (i.name && (!/radio|checkbox/.test(i.type) || i.checked) && i.value) out.push([i.name, i.value]);
  return out;
};
const save = () => {
  if (!cur) return Promise.resolve();
  tick();
  cur.rec.values = values();
  return put('interviews', cur.rec);
};

const openInterview = async id => {
  const rec = await get('interviews', id);
  if (!rec) { location.hash = '#home'; return; }
  const html = await get('package', `form:${rec.survey_id}#${rec.survey_version}`);
  show('v-interview', `Hộ số ${rec.household.position} — thôn ${rec.household.village_code}`);
  $('adults').value = rec.adults || '';
  $('ibody').hidden = true;
  $('pick').textContent = '';
  if (!html) { form.textContent = 'Chưa có phiếu của khảo sát này trên máy: hãy tải danh sách khi có mạng.'; $('ibody').hidden = false; return; }
  form.innerHTML = html.html; // our own server's fragment (the citizens' form macros), stored with the package
  const logic = JSON.parse((form.querySelector('script.logic') || {}).textContent || '{}');
  cur = { rec, logic, last: performance.now(), q: null };
  for (const i of form.elements) {
    if (!i.name) continue;
    const got = rec.values.filter(p => p[0] === i.name).map(p => p[1]);
    if (/radio|checkbox/.test(i.type)) i.checked = got.includes(i.value);
    else i.value = got[0] || '';
  }
  $('gps-consent').checked = !!rec.gps_consent;
  $('gps-state').textContent = rec.gps ? `Đã ghi vị trí (±${Math.round(rec.gps.accuracy_m || 0)} m)` : '';
  $('ierr').hidden = true;
  apply();
  showPick();
  if (!rec.selected) $('adults').focus();
};

const holds = (s, v) => window.surveyLogic.holds(s, v);
const answers = () => { // typed as the server reads them (static/logic.js), only enabled fields
  const a = window.surveyLogic.answersOf(form.elements, form);
  for (const k of Object.keys(a)) if (Array.isArray(a[k]) && !a[k].length) delete a[k];
  return a;
};
const apply = () => { // hidden questions are disabled (not sent); options a choice filter rules out are hidden
  if (!cur) return;
  const SL = cur.logic.sections || {}, QL = cur.logic.items || {};
  for (let round = 0; round < 5; round++) {
    const a = answers(), before = JSON.stringify(a);
    $$('.sec', form).forEach(s => s.classList.toggle('off', !holds(SL[s.dataset.s], a)));
    $$('[data-q]', form).forEach(c => {
      const q = QL[c.dataset.q] || {};
      c.classList.toggle('off', !holds(q.r, a));
      const offered = v => { const g = (q.f || []).find(x => x[1].includes(v)); return !g || holds(g[0], a); };
      $$('input,select,textarea', c).forEach(i => {
        const hide = /radio|checkbox/.test(i.type) && !offered(i.value);
        if (q.f) (i.closest('.opt') || i).hidden = hide;
        i.disabled = !!i.closest('.off') || hide;
        if (hide) i.checked = false;
      });
    });
    $$('.sec', form).forEach(s => { s.hidden = s.classList.contains('off'); });
    $$('[data-q]', form).forEach(c => { c.hidden = c.classList.contains('off'); });
    if (JSON.stringify(answers()) === before) break;
  }
};
const problems = () => {
  const a = answers(), QL = cur.logic.items || {}, out = [];
  $$('[data-q]', form).filter(c => !c.closest('.off')).forEach(c => {
    const name = c.dataset.q, q = QL[name] || {};
    const has = $$('input,select,textarea', c).some(i => !i.disabled && !i.name.endsWith('__other') &&
      (/radio|checkbox/.test(i.type) ? i.checked : i.value.trim() !== ''));
    const label = (c.querySelector('[id^="t-"]') || c).textContent.trim();
    const required = q.q ? holds(q.q, a) : c.hasAttribute('data-r');
    if (!has) { if (required) out.push([c, label + ': chưa trả lời']); return; }
    if (q.c && !holds(q.c, a)) out.push([c, label + ': ' + ((q.m && q.m.vi) || q.m || 'câu trả lời chưa hợp lệ')]);
  });
  return out;
};
form.addEventListener('focusin', e => {
  const c = e.target.closest('[data-q]');
  if (c && cur && c.dataset.q !== cur.q) { tick(); cur.q = c.dataset.q; }
});
form.addEventListener('input', e => { const c = e.target.closest('[data-q]'); if (c && cur) { tick(); cur.q = c.dataset.q; } save(); });
form.addEventListener('change', () => { apply(); save(); });
d.addEventListener('visibilitychange', () => { save(); });
addEventListener('pagehide', () => { save(); });
$('pause').addEventListener('click', async e => {
  e.preventDefault();
  await save();
  const v = cur && cur.rec.village;
  cur = null;
  location.hash = v ? '#v/' + encodeURIComponent(v) : '#home';
});
$('gps-consent').addEventListener('change', async e => {
  if (!cur) return;
  cur.rec.gps_consent = e.target.checked;
  cur.rec.gps = null;
  $('gps-state').textContent = '';
  await save();
  if (!e.target.checked || !navigator.geolocation) return;
  $('gps-state').textContent = 'Đang lấy vị trí…';
  navigator.geolocation.getCurrentPosition(p => {
    if (!cur || !cur.rec.gps_consent) return;
    cur.rec.gps = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy || 0) };
    $('gps-state').textContent = `Đã ghi vị trí (±${cur.rec.gps.accuracy_m} m)`;
    save();
  }, () => { $('gps-state').textContent = 'Không lấy được vị trí (không bắt buộc).'; }, { timeout: 15000, maximumAge: 60000 });
});
$('finish').addEventListener('click', async () => {
  if (!cur) return;
  if (!cur.rec.selected) { showPick(); $('ibody').hidden = true; $('adults').focus(); return; }
  apply();
  const errs = problems(), box = $('ierr');
  $$('.err', form).forEach(x => x.remove());
  if (errs.length) {
    box.textContent = `Phiếu chưa hoàn thành (${errs.length} mục): ` + errs.map(x => x[1]).join('; ');
    box.hidden = false;
    errs.forEach(([c, m]) => { const p = el('p', { className: 'err' }, null, m); c.prepend(p); });
    errs[0][0].scrollIntoView();
    return;
  }
  await save();
  const r = cur.rec, paradata = { ...paradataBase(), started_at: r.started_at, ended_at: new Date().toISOString(),
    duration_ms: Math.round(r.active_ms), question_ms: r.question_ms, gps_consent: !!r.gps_consent };
  if (r.gps_consent && r.gps) paradata.gps = r.gps;
  const visit = { id: r.id, survey_id: r.survey_id, survey_version: r.survey_version, household: r.household,
    outcome: 'completed', answers: answers(), respondent: { adults: r.adults, selected: r.selected }, paradata };
  cur = null;
  await enqueue(visit); // first into the outbox, then out of the interviews: killed in between, nothing is lost
  await del('interviews', r.id);
  flash(`Hộ số ${r.household.position}: đã hoàn thành phỏng vấn và lưu trên máy.`);
  location.hash = '#v/' + encodeURIComponent(r.village);
});

// --- the outbox ----------------------------------------------------------------------------------------
const openOutbox = async () => {
  show('v-outbox');
  const ul = $('outbox'), items = (await all('outbox')).sort((a, b) => a.queued_at - b.queued_at);
  ul.textContent = '';
  items.slice(0, 200).forEach(o => {
    const li = el('li', { className: 'card ' + o.state }, ul), h = o.visit.household;
    li.dataset.visit = o.id;
    el('strong', {}, li, `Hộ số ${h.position} (${h.commune_code}-${h.village_code}): ${LABELS[o.visit.outcome] || o.visit.outcome}`);
    el('p', { className: 'muted' }, li, o.state === 'conflict' ? 'Xung đột: ' + o.error : o.state === 'refused' ? 'Bị từ chối: ' + o.error
      : o.error ? 'Chưa gửi được: ' + o.error : 'Đang chờ gửi');
    if (o.state !== 'queued') el('button', { type: 'button', className: 'btn alt', onclick: async () => {
      await put('outbox', { ...o, state: 'queued', error: '' });
      sync().then(openOutbox);
    } }, li, 'Gửi lại');
  });
  if (items.length > 200) el('li', { className: 'muted' }, ul, `… và ${items.length - 200} phiếu khác`);
};

let syncing = null, backoff = 0, timer = null;
const later = () => { // retry with backoff: 2 s, 4 s, … up to 5 minutes
  clearTimeout(timer);
  backoff = Math.min(backoff ? backoff * 2 : 2000, 300000);
  timer = setTimeout(sync, backoff);
};
const sync = () => syncing || (syncing = send().finally(() => { syncing = null; unsent(); }));
const send = async () => {
  if (!device || needsLink) return;
  const items = (await all('outbox')).filter(o => o.state === 'queued').sort((a, b) => a.queued_at - b.queued_at);
  for (const o of items) {
    let r, j;
    try {
      r = await fetch('/field/api/visits', { method: 'POST', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + device.token }, body: JSON.stringify(o.visit) });
      j = await r.json().catch(() => ({}));
    } catch (x) {
      net(false);
      await put('outbox', { ...o, tries: o.tries + 1, error: 'lỗi mạng' });
      return later();
    }
    net(true);
    const err = j.error || {}, message = err.message || `lỗi ${r.status}`;
    if (r.status === 200 || r.status === 201) {
      await put('sent', { id: hhKey(o.visit.household), visit_id: o.id, outcome: o.visit.outcome, receipt: j.receipt || o.id });
      await del('outbox', o.id);
      await unsent();
    } else if (r.status === 401) {
      needsLink = true;
      flash('Liên kết thiết bị đã hết hạn hoặc bị thu hồi: hãy đăng nhập để liên kết lại. Các phiếu vẫn được giữ trên máy.');
      return route();
    } else if (!(await get('outbox', o.id))) {
      // another sender (the worker's sync, a second tab) already stored and removed it: nothing to keep
    } else if (r.status === 409) {
      await put('outbox', { ...o, state: 'conflict', error: message });
    } else if (r.status >= 500 || r.status === 429) {
      await put('outbox', { ...o, tries: o.tries + 1, error: message });
      return later();
    } else {
      await put('outbox', { ...o, state: 'refused', error: message });
    }
  }
  backoff = 0;
};
const askBackgroundSync = () => {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready.then(reg => reg.sync && reg.sync.register('field-outbox')).catch(() => {});
};

// --- the package ------------------------------------------------------------------------------------------
const download = async () => {
  flash('Đang tải danh sách hộ và phiếu…');
  try {
    const r = await fetch('/field/api/package', { headers: { Authorization: 'Bearer ' + device.token }, cache: 'no-store' });
    if (r.status === 401) { needsLink = true; flash(''); return route(); }
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const data = await r.json(), forms = [];
    const versions = new Map();
    (data.assignments || []).forEach(a => a.survey_version && versions.set(`${a.survey_id}#${a.survey_version}`, a));
    surveysIn(data).forEach(([id, s]) => s.version && versions.set(`${id}#${s.version}`, s));
    for (const key of versions.keys()) {
      const [id, v] = key.split('#');
      const f = await fetch(`/field/form/${id}/${v}`);
      if (!f.ok) throw new Error('HTTP ' + f.status);
      forms.push({ id: 'form:' + key, html: await f.text() });
    }
    pkg = { id: 'package', data, fetched_at: Date.now() };
    await putAll('package', [...forms, pkg]);
    net(true);
    flash('Đã tải danh sách và phiếu: có thể làm việc không cần mạng.');
  } catch (x) {
    flash('Không tải được danh sách (không có mạng?). Ứng dụng dùng bản đã tải trước đó.');
  }
  route();
};

// Test and support hook: what is stored, the outbox (e.g. to check 1,000 queued visits survive an update), the
// adult-selection rule (to check it against the server's).
window.fieldApp = { all, count, putAll, sync, unsent, adultToInterview, version: APP_VERSION };

const start = async () => {
  device = await get('device', 'device');
  pkg = (await get('package', 'package')) || null;
  net(navigator.onLine);
  if (device && device.expires_at && Date.parse(device.expires_at) < Date.now()) needsLink = true;
  addEventListener('hashchange', () => { save(); cur = null; route(); });
  addEventListener('online', () => { net(true); backoff = 0; sync(); });
  addEventListener('offline', () => net(false));
  $('download').addEventListener('click', download);
  $('sync').addEventListener('click', () => { backoff = 0; sync(); });
  $('sync2').addEventListener('click', () => { backoff = 0; sync().then(openOutbox); });
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).catch(() => {});
    navigator.serviceWorker.addEventListener('message', e => { if (e.data && e.data.type === 'sync') sync(); });
  }
  setInterval(() => { if (!timer || !backoff) sync(); }, 60000);
  await route();
  d.body.dataset.ready = '1';
  if (device && !pkg && navigator.onLine) download();
  sync();
};
start();
})();
