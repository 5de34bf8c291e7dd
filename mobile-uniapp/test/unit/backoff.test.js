import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Backoff } from '../../src/lib/backoff.js'

test('delays double up to the cap and start over after reset', () => {
  const b = new Backoff({ min: 100, max: 1000, jitter: 0 })
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000])
  b.reset()
  assert.equal(b.next(), 100)
})

test('jitter spreads delays but never past the cap', () => {
  const lo = new Backoff({ min: 1000, max: 1000, jitter: 0.5, random: () => 0 })
  const hi = new Backoff({ min: 1000, max: 1000, jitter: 0.5, random: () => 0.999 })
  assert.equal(lo.next(), 500)
  assert.equal(hi.next(), 1000)
})
