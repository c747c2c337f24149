// The data authority's pages against the real system: departments and the catalog (the API lists neither yet, so
// the pages say so), bad input caught before anything is sent, the demo world's objection with its 1/2/5-day due
// times, the attester-only subject page, and every page in both languages at desktop and phone widths.
import { Wallet } from 'ethers'
import { DESKTOP, PHONE } from './lib/browser.js'

const PAGES = [
  ['departments', '[data-test=department-form]'],
  ['resources', '[data-test=resource-form]'],
  ['objections', '[data-test=objection], [data-test=objections-empty]'],
]

export default [
  {
    name: 'the admin sees the registered departments and the catalog, and a bad address or field list is caught in the form',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'admin')
      await page.click('[data-test=nav-admin]')
      await page.waitForSelector('[data-test=departments] >> text=jn.rsj')
      await page.fill('[data-test=department-address]', '0x1234')
      await page.fill('[data-test=department-code]', 'bad code!')
      await page.click('[data-test=department-submit]')
      t.assert.equal(await page.locator('[data-test=department-form] .invalid').count(), 3)
      await page.click('[data-test=tab-admin-resources]')
      const pension = page.locator('[data-test=resource][data-id="hrss.social_insurance"]')
      await pension.waitFor()
      t.assert.match(await pension.innerText(), /pension_months/)
      t.assert.match(await pension.innerText(), /人力资源和社会保障局/)
      await page.fill('[data-test=resource-id]', 'NoDots')
      await page.fill('[data-test=resource-fields]', 'name, name')
      await page.click('[data-test=resource-submit]')
      t.assert.equal(await page.locator('[data-test=resource-form] .invalid').count(), 4)
    },
  },
  {
    name: 'the demo world\'s forwarded objection shows its history and due times; it waits on the provider',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'admin')
      await page.click('[data-test=nav-admin]')
      await page.click('[data-test=tab-admin-objections]')
      await page.click('[data-test=objections-all]')
      const forwarded = page.locator('[data-test=objection][data-status=FORWARDED]').first()
      await forwarded.waitFor()
      t.assert.ok((await forwarded.locator('[data-test=objection-due-mark]').textContent()).trim().length > 0)
      t.assert.equal(await forwarded.locator('[data-test=objection-mark], [data-test=objection-decide]').count(), 0)
    },
  },
  {
    name: 'the identity attester opens the subject page with its own key; an ID number is checked before signing',
    async run(t) {
      // signed in from the page's own address, so the app lands there (the attester has no admin tab)
      const page = await t.page()
      await page.goto(`${t.ctx.base}/app/admin/subjects`)
      await page.click('[data-test=mode-hex]')
      await page.fill('[data-test=hex-key]', (await Wallet.fromEncryptedJson(t.key('attester').json, t.ctx.password)).privateKey)
      await page.fill('[data-test=password]', 'browser-test-password')
      await page.click('[data-test=sign-in]')
      await page.waitForURL('**/app/admin/subjects')
      await page.waitForSelector('[data-test=subject-form]')
      t.assert.equal(await page.locator('[data-test=not-attester]').count(), 0)
      await page.fill('[data-test=subject-id-number]', '12345')
      await page.fill('[data-test=subject-signers]', t.key('citizen-li').address)
      await page.click('[data-test=subject-submit]')
      t.assert.equal(await page.locator('[data-test=subject-form] .invalid').count(), 1)
      await t.screenshot(page, 'admin-subjects.zh-CN.desktop')
    },
  },
  {
    name: 'every data authority page in Chinese and English, at desktop and phone widths',
    async run(t) {
      for (const locale of ['zh-CN', 'en']) {
        for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
          const page = await t.page({ locale, viewport })
          await t.signIn(page, 'admin')
          await page.click('[data-test=nav-admin]')
          for (const [name, ready] of PAGES) {
            await page.click(`[data-test=tab-admin-${name}]`)
            await page.waitForSelector(ready)
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
            t.assert.ok(overflow <= 1, `${name} (${locale}, ${width}) does not scroll sideways (${overflow} px)`)
            await t.screenshot(page, `admin-${name}.${locale}.${width}`)
          }
          await page.context().close()
        }
      }
    },
  },
]
