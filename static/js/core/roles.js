// Roles (protocol 1.2): whether this device may change what everyone shares (the library, later the
// graph and fine-tuning). One place every sheet asks (`admin`, `reason()`), takes headers from
// (`headers()`: X-Admin-Token once unlocked) and listens to (`on(fn)`). No DOM, no `uni`: a shell
// hands in storage and http({method, path, headers, body}) -> {status, data}.

export const ADMIN_KEY = 'chat.admin_token'
const ADMIN_PARAM = /(?:^|&)admin=([^&]*)/ // in a link's fragment: …/#admin=TOKEN, as the server prints it
export const LOCKED = 'Only this server\'s admin may do this: unlock Settings > Manage this server with the admin token.'

export class Role {
  /** @param {{storage: import('./types.js').Storage, http: Function, key?: string, clientId?: () => string}} options */
  constructor({ storage, http, key = ADMIN_KEY, clientId = () => '' }) {
    this.storage = storage
    this.http = http
    this.key = key
    this.clientId = clientId // whose device an admin request comes from: the audit log keeps a hash of it
    this.listeners = []
    const kept = storage.get(key, '')
    this.token = typeof kept === 'string' ? kept : ''
    this.admin = false // what the server said of this device's tokens
    this.adminTokenSet = false // the server has an admin token (else whoever may chat may manage)
    this.known = false // the server has answered at least once
  }

  /** Call fn(role) whenever what this device may do changes; returns a function that stops it. */
  on(fn) {
    this.listeners.push(fn)
    return () => { this.listeners = this.listeners.filter((f) => f !== fn) }
  }

  /** Headers of an admin request (add them to the access token's). */
  headers() {
    const id = this.clientId()
    return { ...(this.token ? { 'X-Admin-Token': this.token } : {}), ...(id ? { 'X-Client-Id': id } : {}) }
  }

  /** Why an admin control is off, or '' when it is on. */
  reason() {
    if (this.admin) return ''
    return this.known ? LOCKED : 'Checking whether this device may manage the server…'
  }

  /** Ask the server what this device's tokens may do; false when it could not be asked. */
  async refresh() {
    const asked = this.token
    const res = await this._ask(asked)
    if (!res) return false
    if (asked !== this.token) return true // an unlock or forget came in meanwhile: its answer stands
    this._set(res)
    return true
  }

  /** Try an admin token, or an admin link carrying one: kept on this device when the server takes it; {ok, message}. */
  async unlock(token) {
    const t = adminTokenFrom(token)
    if (!t) return { ok: false, message: 'Type the admin token first.' }
    const res = await this._ask(t)
    if (!res) return { ok: false, message: 'The server could not be asked. Check the connection and try again.' }
    if (!res.admin || !res.admin_token_set) {
      this._set(await this._ask(this.token) || res)
      return { ok: false, message: res.admin_token_set ? 'That admin token was not accepted. Check it and try again.'
        : 'This server has no admin token: whoever may use it may manage it.' }
    }
    this.token = t
    this.storage.set(this.key, t)
    this._set(res)
    return { ok: true, message: 'This device may now manage the server.' }
  }

  /** Forget the admin token on this device. */
  async forget() {
    this.token = ''
    this.storage.remove(this.key)
    this.admin = false
    this._emit()
    await this.refresh()
  }

  /** A 403 from an admin request: the device lost its role (the token changed on the server). */
  refused() {
    if (!this.admin) return
    this.admin = false
    this._emit()
  }

  async _ask(token) {
    try {
      const res = await this.http({ method: 'GET', path: '/api/roles', headers: token ? { 'X-Admin-Token': token } : {} })
      return res && res.status === 200 && res.data && res.data.ok ? res.data : null
    } catch {
      return null
    }
  }

  _emit() {
    for (const fn of this.listeners) fn(this)
  }

  _set(data) {
    this.admin = data.admin === true
    this.adminTokenSet = data.admin_token_set === true
    this.known = true
    this._emit()
  }
}

/** The admin token an admin link carries in its fragment (…/#admin=TOKEN), or '' when it carries none. */
export function adminFromLink(link) {
  const s = String(link || '')
  const hash = s.indexOf('#')
  const m = hash < 0 ? null : ADMIN_PARAM.exec(s.slice(hash + 1))
  if (!m) return ''
  try {
    return decodeURIComponent(m[1]).trim()
  } catch {
    return ''
  }
}

/** What a person pasted where an admin token goes: the token an admin link carries, else the text itself. */
export function adminTokenFrom(text) {
  const s = String(text || '').trim()
  return adminFromLink(s) || (s.includes('#admin=') ? '' : s)
}

/** A body as JSON (uni hands some over as a string); null when it is none. */
export function jsonBody(data) {
  if (typeof data !== 'string') return data ?? null
  try {
    return JSON.parse(data)
  } catch {
    return null
  }
}

/** The sentence of a failed HTTP answer: the server's own (a 403 says who may), else a fallback. */
export function httpErrorText(status, data, fallback) {
  const body = jsonBody(data)
  if (body && body.error && body.error.message) return body.error.message
  return status ? `${fallback} (HTTP ${status}).` : `${fallback}: the connection dropped.`
}
