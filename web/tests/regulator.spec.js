// The regulator console against the real system: a verification run to its outcome (whatever the demo world
// makes it report, each problem with its code), the checkpoint checked against the log's key, and every page
// in both languages at desktop and phone widths.
import { DESKTOP, PHONE } from './lib/browser.js'
import { runVerification } from './lib/regulator.js'

const PAGES = [
  ['verify', '[data-test=verify-start]'],
  ['anchors', '[data-test=checkpoint]'],
  ['overdue', '[data-test=overdue-sharing]'],
  ['emergencies', '[data-test=emergency], [data-test=emergencies-empty]'],
  ['charts', '[data-test=charts-read]'],
]

export default [
  {
    name: 'the regulator runs a full verification and sees its outcome, each problem with its code',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'regulator')
      const { ok, codes } = await runVerification(page, { full: true })
      t.assert.equal(ok, codes.length === 0, 'the outcome is ok exactly when no problem is listed')
      for (const code of codes) t.assert.match(code, /^[A-Z][A-Z0-9_]+$/)
      t.measure('regulator_verify_problems', codes.length)
      await t.screenshot(page, 'regulator-verify.zh-CN.desktop')
      // an incremental run after the full one starts from the size it verified
      const again = await runVerification(page)
      t.assert.equal(typeof again.ok, 'boolean')
    },
  },
  {
    name: 'the current checkpoint is parsed, signed by the log key and matches its on-chain anchor',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'regulator')
      await page.click('[data-test=nav-regulator]')
      await page.click('[data-test=tab-regulator-anchors]')
      await page.waitForSelector('[data-test=checkpoint-signature]')
      t.assert.equal(await page.getAttribute('[data-test=checkpoint-signature]', 'data-valid'), 'true')
      const size = Number(await page.textContent('[data-test=checkpoint-size]'))
      t.assert.ok(size >= 1, 'the demo world has entries')
      await page.waitForSelector('[data-test=checkpoint-anchor]')
      t.assert.notEqual(await page.getAttribute('[data-test=checkpoint-anchor]', 'data-state'), 'mismatch')
      t.assert.match(await page.textContent('[data-test=checkpoint-origin]'), /^consent-ledger\//)
    },
  },
  {
    name: 'the emergency under review shows its scope, window, uses and the 24 h review deadline',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'regulator')
      await page.click('[data-test=nav-regulator]')
      await page.click('[data-test=tab-regulator-emergencies]')
      await page.waitForSelector('[data-test=emergency], [data-test=emergencies-empty]')
      const cards = page.locator('[data-test=emergency]')
      if (await cards.count()) {
        t.assert.ok((await page.textContent('[data-test=emergency-review-due]')).trim().length > 0)
        t.assert.match(await page.textContent('[data-test=emergency-uses]'), /\d/)
        // a review note is required before anything is signed
        const submit = cards.first().locator('[data-test=review-submit]')
        if (await submit.isEnabled()) {
          await submit.click()
          await cards.first().locator('.invalid').waitFor()
        }
      }
    },
  },
  {
    name: 'every regulator page in Chinese and English, at desktop and phone widths',
    async run(t) {
      for (const locale of ['zh-CN', 'en']) {
        for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
          const page = await t.page({ locale, viewport })
          await t.signIn(page, 'regulator')
          await page.click('[data-test=nav-regulator]')
          for (const [name, ready] of PAGES) {
            await page.click(`[data-test=tab-regulator-${name}]`)
            await page.waitForSelector(ready)
            if (name === 'charts' && Number(await page.getAttribute('[data-test=charts-read]', 'data-count')) > 0) {
              await page.waitForSelector('[data-test=chart-reasons] canvas')
              const box = await page.locator('[data-test=chart-reasons] canvas').boundingBox()
              t.assert.ok(box.width <= viewport.width, 'the chart fits the window')
            }
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
            t.assert.ok(overflow <= 1, `${name} (${locale}, ${width}) does not scroll sideways (${overflow} px)`)
            await t.screenshot(page, `regulator-${name}.${locale}.${width}`)
          }
          await page.context().close()
        }
      }
    },
  },
]
