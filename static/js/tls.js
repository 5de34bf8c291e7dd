// Settings > This connection: whether chats travel encrypted, and on HTTPS the certificate's fingerprint to
// compare with the one the server printed at its start (the browser's one-time warning is about that certificate).

/** The sentence for this page's connection: protocol and /api/tls's answer (null when it could not be asked). */
export function connectionText(protocol, hostname, tls) {
  if (protocol === 'https:') {
    const fp = tls && tls.fingerprint_sha256
    if (!fp) return 'Encrypted (HTTPS).'
    return 'Encrypted (HTTPS) with a certificate this server made for itself. The first time, the browser warns ' +
      'that no known authority vouches for it: compare the SHA-256 fingerprint it shows (the padlock, then the ' +
      `certificate) with this one and with the one the server printed at start:\n${fp}\nIf they match, go on ` +
      '(Advanced, then Proceed); the browser then remembers it.'
  }
  if (hostname === 'localhost' || hostname.startsWith('127.')) return 'This computer only: nothing crosses the network.'
  return 'Not encrypted: anyone on this network could read these chats. Whoever runs the server can start it ' +
    'with --https.'
}

export class ConnectionNote {
  constructor(doc, http) {
    this.el = doc.getElementById('tls-status')
    this.http = http
    // Asked again whenever Settings opens: on a server with an access token the first ask may precede it.
    doc.getElementById('open-settings').addEventListener('click', () => this.paint())
  }

  async paint() {
    const res = await this.http({ method: 'GET', path: '/api/tls' }).catch(() => null)
    const tls = res && res.status === 200 ? res.data : null
    this.el.textContent = connectionText(location.protocol, location.hostname, tls)
    this.el.classList.toggle('bad', location.protocol !== 'https:' && !/^(localhost|127\.)/.test(location.hostname))
  }
}
