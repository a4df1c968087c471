// The field app's service worker (served as /field/sw.js with VERSION and PRECACHE written above this line).
// Precache: the shell and its assets in a cache named after the version; an update installs a new cache, takes
// over at once and deletes the old caches. Interviews live in IndexedDB, which an update never touches.
// /field/api/package is network-first (the last good copy answers offline); POSTs are never cached or answered
// from cache: the app keeps unsent visits in its own outbox.
const CACHE = 'field-' + VERSION;

self.addEventListener('install', event => {
  event.waitUntil(caches.open(CACHE).then(c => c.addAll(PRECACHE.map(u => new Request(u, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', event => {
  event.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k.startsWith('field-') && k !== CACHE && k !== 'field-data').map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

const networkFirst = async request => {
  const data = await caches.open('field-data');
  try {
    const answer = await fetch(request);
    if (answer.ok) await data.put(request.url, answer.clone());
    return answer;
  } catch (x) {
    const kept = await data.match(request.url);
    if (kept) return kept;
    throw x;
  }
};

self.addEventListener('fetch', event => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return; // POSTs go to the network as they are
  // The package is not cached here: the app keeps it in IndexedDB, and a cached copy answering offline would look
  // like a fresh download (and, keyed by URL, could be the previous enumerator's on a shared phone).
  if (url.pathname.startsWith('/field/form/')) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (url.pathname.startsWith('/field/api/')) return;
  const key = url.pathname === '/field/' || url.pathname === '/field/index.html' ? '/field/' : url.pathname + url.search;
  event.respondWith(caches.open(CACHE).then(c => c.match(key)).then(hit => hit || fetch(request).catch(() =>
    request.mode === 'navigate' ? caches.open(CACHE).then(c => c.match('/field/')) : Promise.reject(new TypeError('offline')))));
});

// Background Sync where the browser has it: the page registers 'field-outbox'; the worker asks an open page to send.
self.addEventListener('sync', event => {
  if (event.tag !== 'field-outbox') return;
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then(list => list.forEach(c => c.postMessage({ type: 'sync' }))));
});
