// The browser tests: headless Debian Chromium driven by playwright-core against a running system.
//
//   node tests/run.js --base http://127.0.0.1:8000 --home .data [--screenshots DIR] [--report FILE] [spec.js ...]
//
// (Specs import their helpers from lib/, never from this file: it is the entry module.)
// Each spec file default-exports [{ name, run: async (t) => {...} }]. A test gets `t`:
//   t.page({ locale, viewport, context })  a new page (in a new browser context unless one is given)
//   t.context()                             a new browser context (a second person at another browser)
//   t.signIn(page, keyName, { via })        signs in through the sign-in page (via 'hex', the default on the
//                                           devnet, or 'keystore': the keystore file imported with its password)
//   t.key(name)                             { address, keystorePath }
//   t.ctx                                   { base, home, password, demo facts }
//   t.screenshot(page, name)                a PNG under the screenshots dir
//   t.assert                                node:assert/strict
//   t.measure(name, value)                  a figure for the report
// A test fails on an exception, and also when any of its pages logged a page error or a console error
// (a Content-Security-Policy violation is one; a 4xx reply, which the page shows as a refusal, is not).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Wallet } from 'ethers'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, DESKTOP } from './lib/browser.js'

const here = dirname(fileURLToPath(import.meta.url))

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string' },
    home: { type: 'string' },
    screenshots: { type: 'string', default: resolve(here, '../../build/screenshots') },
    report: { type: 'string' },
    grep: { type: 'string' },
  },
})
if (!values.base || !values.home) {
  console.error('usage: node tests/run.js --base URL --home DATA_DIR [--screenshots DIR] [--report FILE] [spec.js ...]')
  process.exit(2)
}
const base = values.base.replace(/\/$/, '')
const home = resolve(values.home)
const password = process.env.CONSENT_LEDGER_KEY_PASSWORD || 'consent-ledger-devnet'
mkdirSync(values.screenshots, { recursive: true })

const EXPECTED_REFUSAL = /^Failed to load resource: the server responded with a status of 4\d\d/
const hexKeys = new Map()
function key(name) {
  const keystorePath = join(home, 'keystore', `${name}.json`)
  const json = readFileSync(keystorePath, 'utf8')
  return { name, keystorePath, json, address: `0x${JSON.parse(json).address}` }
}
async function hexKey(name) {
  if (!hexKeys.has(name)) hexKeys.set(name, (await Wallet.fromEncryptedJson(key(name).json, password)).privateKey)
  return hexKeys.get(name)
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
const figures = {}
const results = []

function makeT(test, problems, opened) {
  const t = {
    ctx: { base, home, password, citizenId: '370102198506124536' },
    assert,
    key,
    figures,
    measure(name, value) { figures[name] = value },
    async context(options = {}) {
      const context = await browser.newContext({ baseURL: `${base}/app/`, locale: options.locale ?? 'zh-CN',
        viewport: options.viewport ?? DESKTOP, acceptDownloads: true })
      context.setDefaultTimeout(options.timeout ?? 20000)
      opened.push(context)
      return context
    },
    async page(options = {}) {
      const context = options.context ?? await t.context(options)
      const page = await context.newPage()
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
      page.on('console', (m) => {
        // Chromium logs every 4xx reply as an error; a refusal the page shows is expected, a 5xx never is
        if (m.type() === 'error' && !EXPECTED_REFUSAL.test(m.text())) problems.push(`console error: ${m.text()}`)
      })
      if (options.locale === 'en') await page.addInitScript(() => localStorage.setItem('consent-ledger.locale', 'en'))
      return page
    },
    async signIn(page, name, { via = 'hex' } = {}) {
      await page.goto(`${base}/app/sign-in`)
      if (via === 'keystore') {
        await page.click('[data-test=mode-keystore]')
        await page.setInputFiles('[data-test=keystore-file]', key(name).keystorePath)
        await page.fill('[data-test=password]', password)
      } else {
        await page.click('[data-test=mode-hex]')
        await page.fill('[data-test=hex-key]', await hexKey(name))
        await page.fill('[data-test=password]', 'browser-test-password')
      }
      // one key may ask for a sign-in challenge about once a second (burst ten): a spec that signs the same key
      // in at several browsers waits, as a person would, when the page says RATE_LIMITED
      for (let attempt = 0; ; attempt++) {
        await page.click('[data-test=sign-in]')
        await page.waitForSelector('[data-test=signed-in-as], [data-test=error-code]', { timeout: 60000 })
        if (await page.locator('[data-test=signed-in-as]').count()) return key(name).address
        const code = await page.textContent('[data-test=error-code]')
        if (code !== 'RATE_LIMITED' || attempt === 10) throw new Error(`sign-in as ${name} refused: ${code}`)
        await page.waitForTimeout(1500)
      }
    },
    async screenshot(page, name) {
      const path = join(values.screenshots, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
  }
  return t
}

const files = positionals.length ? positionals.map((p) => resolve(p))
  : readdirSync(here).filter((f) => f.endsWith('.spec.js')).sort().map((f) => join(here, f))
for (const file of files) {
  const tests = (await import(pathToFileURL(file).href)).default
  for (const test of tests) {
    const name = `${basename(file, '.spec.js')}: ${test.name}`
    if (values.grep && !name.includes(values.grep)) continue
    const problems = []
    const opened = []
    const started = Date.now()
    let error = null
    try {
      await test.run(makeT(test, problems, opened))
      if (problems.length) throw new Error(`the page reported:\n  ${problems.join('\n  ')}`)
    } catch (e) {
      error = e
    } finally {
      for (const context of opened) await context.close().catch(() => {})
    }
    const seconds = (Date.now() - started) / 1000
    results.push({ name, ok: !error, seconds, error: error ? String(error.stack ?? error) : null })
    console.log(`${error ? 'FAIL' : 'ok  '} ${name} (${seconds.toFixed(1)} s)`)
    if (error) console.log(String(error.stack ?? error).split('\n').map((l) => `     ${l}`).join('\n'))
  }
}
await browser.close()
const failed = results.filter((r) => !r.ok).length
console.log(`${results.length - failed} passed, ${failed} failed`)
if (values.report) writeFileSync(values.report, JSON.stringify({ results, figures }, null, 2))
process.exit(failed || !results.length ? 1 : 0)
