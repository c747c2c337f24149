// The API client of the pages: same origin, the session's bearer token, and one error type that carries the
// API's stable code and its message, so every page shows what the server said.
import { session, signOut } from './session.js'

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.body = body
  }
}

async function parse(response) {
  const text = await response.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return { text }
  }
}

/** Calls the API; resolves to the parsed body of a 2xx reply and rejects with an ApiError otherwise. */
export async function request(method, path, { body, query, token = session.token, signal } = {}) {
  let url = path
  if (query) {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v)
    const qs = params.toString()
    if (qs) url += `?${qs}`
  }
  const headers = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  let response
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal })
  } catch (e) {
    if (e.name === 'AbortError') throw e
    throw new ApiError(0, 'NETWORK', 'the server could not be reached')
  }
  const data = await parse(response)
  if (response.ok) return data
  const error = data?.error ?? {}
  if (response.status === 401 && token) signOut({ expired: true })
  throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText, data)
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options) => request('POST', path, { ...options, body: body ?? {} }),
  put: (path, body, options) => request('PUT', path, { ...options, body }),
  delete: (path, options) => request('DELETE', path, options),
}

let config = null
/** /app/config.json: the chain id, whether this is the devnet, and the audit log's origin and key. */
export async function appConfig() {
  config ??= await request('GET', '/app/config.json', { token: null })
  return config
}
