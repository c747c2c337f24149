// The department console against the real system: a query released under a consent with its receipt, a
// field outside the consent refused with FIELD_NOT_GRANTED, and every page in both languages at desktop
// and phone widths (the emergency page as an EMERGENCY holder).
import { Wallet } from 'ethers'
import { grantConsent, runQuery } from './lib/department.js'
import { DESKTOP, PHONE } from './lib/browser.js'

export { runQuery }

const CITIZEN = '370102198506124536'
const PAGES = ['query', 'sharing', 'verifications', 'suspensions', 'records']

/** Signs in with a devnet hex key on the sign-in page reached from `path`, so the app lands on that page. */
async function signInAt(t, page, name, path) {
  const hex = (await Wallet.fromEncryptedJson(t.key(name).json, t.ctx.password)).privateKey
  await page.goto(`${t.ctx.base}/app${path}`)
  await page.click('[data-test=mode-hex]')
  await page.fill('[data-test=hex-key]', hex)
  await page.fill('[data-test=password]', 'browser-test-password')
  await page.click('[data-test=sign-in]')
  await page.waitForSelector('[data-test=signed-in-as]', { timeout: 60000 })
  await page.waitForURL(`**/app${path}`)
}

/** Picks values in an el-select that allows new ones: typed into its search input, Enter after each. */
async function typeInto(page, selector, values) {
  const root = page.locator(selector)
  const input = (await root.evaluate((e) => e.tagName)) === 'INPUT' ? root : root.locator('input').first()
  await root.click()
  for (const value of values) {
    await input.fill(value)
    await input.press('Enter')
  }
  await page.keyboard.press('Escape')
}

export default [
  {
    name: 'HRSS queries 张伟 under his consent: the granted fields with a receipt; a field not granted is refused',
    async run(t) {
      await grantConsent(t, 'citizen-zhang', {
        idNumber: CITIZEN, grantee: t.key('dept-hrss').address, resource: 'hrss.social_insurance',
        fields: ['name', 'pension_months'], purpose: 'pension_eligibility', days: 1,
      })
      const page = await t.page()
      await t.signIn(page, 'dept-hrss')
      const query = { idNumber: CITIZEN, resource: 'hrss.social_insurance', purpose: 'pension_eligibility' }
      const allowed = await runQuery(page, { ...query, fields: ['name', 'pension_months'] })
      t.assert.equal(allowed.decision, 'ALLOW')
      t.assert.equal(allowed.code, 'OK')
      t.assert.equal(await page.textContent('[data-test=query-data] [data-field=name] td:nth-child(2)').then((s) => s.trim()), '张伟')
      const receipt = await page.textContent('[data-test=query-receipt]')
      t.assert.match(receipt, /0x[0-9a-f]{64}/, 'the receipt shows the leaf and payload hashes')
      t.assert.equal(Number(await page.textContent('[data-test=receipt-seq]')), allowed.seq)
      await t.screenshot(page, 'department.query-allow.zh-CN.desktop')

      const refused = await runQuery(page, { ...query, fields: ['name', 'monthly_base'] })
      t.assert.equal(refused.decision, 'DENY')
      t.assert.equal(refused.code, 'FIELD_NOT_GRANTED')
      t.assert.match(await page.textContent('[data-test=query-reason]'), /FIELD_NOT_GRANTED/)
      t.assert.ok(refused.seq > allowed.seq, 'the refusal is audited after the release')
      t.assert.match(await page.textContent('[data-test=query-deny-seq]'), new RegExp(String(refused.seq)))
      await t.screenshot(page, 'department.query-deny.zh-CN.desktop')
    },
  },
  {
    name: 'a release of a disputed field says so, with the objection the data authority marked',
    async run(t) {
      // the demo world's enterprise objects to its credit grade (marked, forwarded to the tax service); two of
      // its three signers consent to HRSS reading the grade
      await grantConsent(t, ['enterprise-legal-rep', 'enterprise-agent-1'], {
        idType: 'uscc', idNumber: '91370100MA5F3K2Y1G', grantee: t.key('dept-hrss').address, resource: 'swj.tax_credit',
        fields: ['credit_grade'], purpose: 'credit_check', days: 1,
      })
      const page = await t.page({ viewport: PHONE, locale: 'en' })
      await t.signIn(page, 'dept-hrss')
      const answer = await runQuery(page, { idType: 'uscc', idNumber: '91370100MA5F3K2Y1G', resource: 'swj.tax_credit',
        fields: ['credit_grade'], purpose: 'credit_check' })
      t.assert.equal(answer.decision, 'ALLOW')
      t.assert.equal(answer.disputed.length, 1)
      t.assert.equal(answer.disputed[0].field, 'credit_grade')
      t.assert.ok(answer.disputed[0].objection_id >= 1)
      t.assert.match(await page.textContent('[data-test=query-disputed]'), /objection/)
      await t.screenshot(page, 'department.query-disputed.en.phone')
    },
  },
  {
    name: 'HRSS files a sharing request for the housing fund, signed with its own key; the centre denies it with a reason',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'dept-hrss')
      await page.click('[data-test=nav-department]')
      await page.click('[data-test=tab-department-sharing]')
      await page.fill('[data-test=sharing-resource]', 'gjj.housing_fund')
      await typeInto(page, '[data-test=sharing-fields]', ['name', 'balance'])
      await page.fill('[data-test=sharing-purpose]', `browser_test_${Date.now()}`)
      const until = new Date(Date.now() + 40 * 86400e3).toISOString().slice(0, 10)
      await page.fill('#sharing-until', `${until} 00:00:00`)
      await page.press('#sharing-until', 'Enter')
      await page.click('[data-test=sharing-submit]')
      await page.waitForSelector('[data-test=sharing-filed]', { timeout: 60000 })
      const id = Number((await page.textContent('[data-test=sharing-filed]')).match(/#(\d+)/)[1])
      t.assert.match(await page.textContent('[data-test=sharing-mine]'), /gjj\.housing_fund/)
      await t.screenshot(page, 'department.sharing-filed.zh-CN.desktop')

      const provider = await t.page()
      await t.signIn(provider, 'dept-housing-fund')
      await provider.click('[data-test=nav-department]')
      await provider.click('[data-test=tab-department-sharing]')
      await provider.click(`[data-test=sharing-deny-${id}]`)
      await provider.fill('[data-test=sharing-act-reason]', '浏览器测试：用途不明确 (browser test: the purpose is unclear)')
      await provider.click('[data-test=sharing-act-confirm]')
      await provider.waitForSelector(`[data-test=sharing-deny-${id}]`, { state: 'detached', timeout: 60000 })
      t.assert.match(await provider.textContent('[data-test=sharing-to-me]'), /已拒绝/)
    },
  },
  {
    name: 'HRSS suspends the tax service from its social insurance records with a reason, then lifts it',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'dept-hrss')
      await page.click('[data-test=nav-department]')
      await page.click('[data-test=tab-department-suspensions]')
      await page.fill('[data-test=suspension-resource]', 'hrss.social_insurance')
      await page.fill('[data-test=suspension-department]', t.key('dept-tax').address)
      await page.fill('[data-test=suspension-reason]', '浏览器测试 (browser test)')
      const until = new Date(Date.now() + 2 * 86400e3).toISOString().slice(0, 10)
      await page.fill('#suspension-until', `${until} 00:00:00`)
      await page.press('#suspension-until', 'Enter')
      await page.click('[data-test=suspension-submit]')
      await page.waitForSelector('[data-test=suspension-done]', { timeout: 60000 })
      const lift = page.locator('[data-test=suspension-lift-hrss\\.social_insurance]')
      await lift.click()
      await lift.waitFor({ state: 'detached', timeout: 60000 })
      t.assert.match(await page.textContent('[data-test=suspensions-setByMe]'), /已解除/)
    },
  },
  {
    name: 'HRSS imports a CSV of records: stored rows counted, a broken row listed by its line',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'dept-hrss')
      await page.click('[data-test=nav-department]')
      await page.click('[data-test=tab-department-records]')
      await page.fill('[data-test=records-resource]', 'hrss.social_insurance')
      await page.setInputFiles('[data-test=records-file]', {
        name: 'records.csv', mimeType: 'text/csv',
        buffer: Buffer.from('id_type,id_number,name,pension_months\nresident_id,440304199003072312,李娜,96\nresident_id,1\n'),
      })
      await page.click('[data-test=records-start]')
      await page.waitForSelector('[data-test=import-result]', { timeout: 60000 })
      t.assert.equal(await page.getAttribute('[data-test=import-result]', 'data-stored'), '1')
      t.assert.equal(await page.getAttribute('[data-test=import-result]', 'data-failed'), '1')
      t.assert.match(await page.textContent('[data-test=import-errors]'), /INVALID_LINE/)
      await t.screenshot(page, 'department.records-imported.zh-CN.desktop')
    },
  },
  {
    name: 'the department pages in Chinese and English, at desktop and phone widths',
    async run(t) {
      for (const locale of ['zh-CN', 'en']) {
        for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
          const page = await t.page({ locale, viewport })
          await t.signIn(page, 'dept-hrss')
          await page.click('[data-test=nav-department]')
          for (const name of PAGES) {
            await page.click(`[data-test=tab-department-${name}]`)
            await page.waitForURL(`**/dept/${name}`)
            await page.waitForLoadState('networkidle')
            await t.screenshot(page, `department.${name}.${locale}.${width}`)
          }
          const officer = await t.page({ locale, viewport })
          await signInAt(t, officer, 'emergency-officer-1', '/dept/emergency')
          await officer.waitForSelector('[data-test^=emergency-]')
          await officer.waitForLoadState('networkidle')
          await t.screenshot(officer, `department.emergency.${locale}.${width}`)
        }
      }
    },
  },
]
