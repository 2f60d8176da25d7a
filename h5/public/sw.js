// 碳惠泰安 H5 service worker: caches the application shell only (HTML, scripts, styles, icons), so the client
// opens from the home screen without a network. It never caches /api/ (a resident's data, a voucher's QR code):
// those always go to the network, and the page shows a retry when it is unreachable.
const SHELL = 'carbon-h5-shell-v1'
const SCOPE = '/h5/'

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll([SCOPE, SCOPE + 'manifest.webmanifest'])))
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return
  if (request.mode === 'navigate') {
    // The page itself: the network first (a new build shows at once), the cached shell when offline.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok) caches.open(SHELL).then((cache) => cache.put(SCOPE, response.clone()))
        return response
      }).catch(() => caches.match(SCOPE)),
    )
    return
  }
  if (url.pathname.startsWith(SCOPE + 'assets/') || /\.(png|svg|webmanifest)$/.test(url.pathname)) {
    // Hashed build files never change: the cache first.
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) caches.open(SHELL).then((cache) => cache.put(request, response.clone()))
        return response
      })),
    )
  }
})
