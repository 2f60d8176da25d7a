// The one way the client talks to /api/v1: JSON in and out, bearer tokens, refresh before expiry, and the
// API's one error shape turned into an ApiError. Nothing here knows about pages.
//
// Tokens: the access token lives in memory only; the refresh token is kept in localStorage so that a resident
// stays logged in across visits. Refresh tokens rotate and a reused one revokes the whole session (docs/api.md),
// so refreshes are single-flight: one at a time per session, every waiting request shares its result.

const BASE = '/api/v1'
const REFRESH_EARLY_MS = 60_000 // refresh a minute before the access token expires

export class ApiError extends Error {
  constructor({ status, code, message, details = null, retryAfter = null }) {
    super(message || code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter // whole seconds, from the Retry-After header of a 429
  }

  /** No answer at all: offline, DNS, a dropped connection. */
  get offline() {
    return this.status === 0
  }
}

/** A fresh key for one user intent (one tap on "redeem"); retries of that intent reuse it. */
export function idempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID()
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

async function toError(response) {
  let body = null
  try {
    body = await response.json()
  } catch {
    body = null
  }
  const error = body?.error || {}
  const retry = response.headers.get('Retry-After')
  return new ApiError({
    status: response.status,
    code: error.code || 'http_error',
    message: error.message || response.statusText,
    details: error.details || null,
    retryAfter: retry === null ? null : Math.max(1, parseInt(retry, 10) || 1),
  })
}

async function send(path, { method = 'GET', body, headers = {}, token, raw = false } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'omit' }
  if (token) init.headers.Authorization = `Bearer ${token}`
  if (body instanceof FormData) {
    init.body = body
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(BASE + path, init)
  } catch (cause) {
    throw new ApiError({ status: 0, code: 'offline', message: String(cause) })
  }
  if (!response.ok) throw await toError(response)
  if (raw) return response
  if (response.status === 204) return null
  const pagination = response.headers.get('X-Pagination')
  const data = await response.json()
  if (pagination && Array.isArray(data)) {
    return { items: data, pagination: JSON.parse(pagination) }
  }
  return data
}

/** Public endpoints (scenario catalogue, districts, rewards): no token. */
export function publicApi(path, options = {}) {
  return send(path, options)
}

/**
 * One logged-in identity: `resident` (the residents' pages) or `merchant` (the scanner). Each keeps its own
 * refresh token, so a cashier can use the scanner on their own phone without logging out as a resident.
 */
export function createSession({ audience, tokensPath, codesPath }) {
  const storageKey = `carbon.h5.${audience}.refresh`
  let accessToken = null
  let expiresAt = 0
  let refreshing = null
  let timer = null
  const listeners = new Set()

  function store(pair) {
    accessToken = pair.access_token
    expiresAt = Date.now() + pair.expires_in * 1000
    localStorage.setItem(storageKey, pair.refresh_token)
    clearTimeout(timer)
    timer = setTimeout(() => refresh().catch(() => {}), Math.max(5_000, pair.expires_in * 1000 - REFRESH_EARLY_MS))
  }

  function forget() {
    accessToken = null
    expiresAt = 0
    clearTimeout(timer)
    localStorage.removeItem(storageKey)
    listeners.forEach((listener) => listener())
  }

  function refresh() {
    if (refreshing) return refreshing
    const refreshToken = localStorage.getItem(storageKey)
    if (!refreshToken) return Promise.resolve(false)
    refreshing = send('/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } })
      .then((pair) => {
        store(pair)
        return true
      })
      .catch((error) => {
        if (error.status === 401) {
          forget()
          return false
        }
        throw error // offline: keep the refresh token and let the page offer a retry
      })
      .finally(() => {
        refreshing = null
      })
    return refreshing
  }

  async function token() {
    if (accessToken && Date.now() < expiresAt - 5_000) return accessToken
    return (await refresh()) ? accessToken : null
  }

  /** A call with this identity's token; one 401 triggers one refresh and one retry. */
  async function call(path, options = {}) {
    const current = await token()
    if (!current) {
      forget()
      throw new ApiError({ status: 401, code: 'unauthorized', message: 'not logged in' })
    }
    try {
      return await send(path, { ...options, token: current })
    } catch (error) {
      if (error.status !== 401 || error.code === 'invalid_code') throw error
      accessToken = null
      const again = await token()
      if (!again) {
        forget()
        throw error
      }
      return send(path, { ...options, token: again })
    }
  }

  return {
    audience,
    call,
    /** True when a refresh token is stored: the pages may try; a failed refresh sends the user to login. */
    get mayBeLoggedIn() {
      return Boolean(accessToken || localStorage.getItem(storageKey))
    },
    requestCode(phone, extra = {}) {
      return send(codesPath, { method: 'POST', body: { phone, ...extra } })
    },
    async logIn(body) {
      store(await send(tokensPath, { method: 'POST', body }))
    },
    async logOut(path) {
      try {
        await call(path, { method: 'DELETE' })
      } finally {
        forget()
      }
    },
    /** Refresh a stored login now, at start-up, so that it overlaps the first page's download instead of
     * following it; the page's first call shares this refresh (single-flight). Failures are the page's to
     * show: it retries through ``call``. */
    resume() {
      if (!accessToken && localStorage.getItem(storageKey)) refresh().catch(() => {})
    },
    forget,
    onLogout(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

export const resident = createSession({ audience: 'resident', tokensPath: '/auth/tokens', codesPath: '/auth/codes' })
export const merchant = createSession({
  audience: 'merchant', tokensPath: '/merchant/auth/tokens', codesPath: '/merchant/auth/codes',
})
