// The real chat server (python run.py) in a subprocess on a free loopback port,
// serving the tiny endless test model, as tests/live.py does.
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import http from 'node:http'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const PYTHON = process.env.PYTHON || 'python'
// Keys of whoever runs the tests must not reach the server under test.
const SCRUB = /^(CHAT_|DEEPSEEK_|OPENAI_)/

function cleanEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUB.test(k)))
  return { ...env, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false' }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

export function getJson(url, timeout = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(body) })
        } catch (err) {
          reject(err)
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

// `python -m tests.tinymodel DIR --endless`: replies run until max_tokens, so there is time to stop or cut them.
// TINY_MODEL names one already built (tests/test_uniapp.py builds it once for the three live files:
// each build here starts Python and imports torch, about 9 s of CPU).
export function buildTinyModel() {
  if (process.env.TINY_MODEL) return process.env.TINY_MODEL
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uniapp-tiny-'))
  execFileSync(PYTHON, ['-m', 'tests.tinymodel', dir, '--endless'], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
  return dir
}

// dataDir: where the server keeps its conversations (a fresh folder unless given, so a restart can reuse one).
// The server starts as a user starts it: with no token flags in args it makes an admin token at first start
// (only its holder changes the library, the graph and fine-tuning); args ['--open'] gives the open server.
export async function startServer({ model, args = [], timeoutMs = 120000, dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'uniapp-data-')), port } = {}) {
  port = port || (await freePort())
  const url = `http://127.0.0.1:${port}`
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uniapp-srv-')), 'server.log')
  const log = fs.openSync(logPath, 'w')
  const argv = [path.join(ROOT, 'run.py'), '--host', '127.0.0.1', '--port', String(port), '--backend', 'local', '--model', model,
    '--async-mode', 'threading', '--no-qr', '--ping-interval', '1', '--ping-timeout', '2', '--data-dir', dataDir, ...args]
  // cwd is a scratch folder so a developer's .env is not read.
  const proc = spawn(PYTHON, argv, { cwd: path.dirname(logPath), env: cleanEnv(), stdio: ['ignore', log, log] })
  const output = () => fs.readFileSync(logPath, 'utf8')
  const server = {
    url,
    port,
    dataDir,
    proc,
    output,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode) return
      const gone = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000)
      await gone
      clearTimeout(t)
      fs.closeSync(log)
    },
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${output().slice(-3000)}`)
    try {
      const { status, body } = await getJson(url + '/healthz')
      if (status === 200 && body.model_ready) return server
    } catch (err) {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  await server.stop()
  throw new Error(`server not ready in ${timeoutMs / 1000} s:\n${output().slice(-3000)}`)
}
