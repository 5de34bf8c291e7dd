// Exponential reconnect delay with jitter, so many phones coming back after a
// Wi-Fi blip do not all hit the server in the same instant.
export class Backoff {
  constructor({ min = 500, max = 10000, factor = 2, jitter = 0.3, random = Math.random } = {}) {
    Object.assign(this, { min, max, factor, jitter, random })
    this.attempts = 0
  }

  // Delay before the next attempt, in ms; grows until max.
  next() {
    const base = Math.min(this.max, this.min * Math.pow(this.factor, this.attempts))
    this.attempts++
    const spread = base * this.jitter * (this.random() * 2 - 1)
    return Math.max(0, Math.min(this.max, Math.round(base + spread)))
  }

  reset() {
    this.attempts = 0
  }
}
