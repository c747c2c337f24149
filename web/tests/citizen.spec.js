// The citizen and enterprise portal against the running system: a consent granted and revoked in the page, the
// access log verified in the browser against the log's key, an enterprise's 2-of-3 consent completed by a second
// signer at another browser, and every page at desktop and phone width.
import { PHONE } from './lib/browser.js'
import { grant, tab } from './lib/citizen.js'

export default [
  {
    name: 'a citizen grants a consent in the page, sees it active, and revokes it in the page',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'citizen-zhang')
      const { consentId, status, result } = await grant(t, page, {
        idNumber: t.ctx.citizenId, grantee: t.key('dept-hrss').address, resource: 'hrss.social_insurance',
        fields: ['name', 'pension_months'], purpose: 'pension_eligibility', maxUses: 10, shot: 'citizen.new-consent.review.desktop',
      })
      t.assert.equal(status, 'active')
      t.assert.match(await result.innerText(), /0x[0-9a-f]{64}/, 'the result names the transaction')
      await t.screenshot(page, 'citizen.new-consent.result.desktop')

      await tab(page, 'citizen-consents')
      const row = `[data-test=consent-row][data-consent-id="${consentId}"]`
      await page.waitForSelector(`${row}[data-status=active]`)
      t.assert.match(await page.innerText(row), /pension_months/)
      await t.screenshot(page, 'citizen.consents.desktop')

      await page.click(`${row} [data-test=revoke]`)
      await page.click('[data-test=revoke-confirm]')
      await page.waitForSelector(`${row}[data-status=revoked]`, { timeout: 60000 })
      t.assert.match(await page.innerText(`${row} [data-test=consent-ending]`), /撤回/)
      await t.screenshot(page, 'citizen.consents.revoked.desktop')
    },
  },
  {
    name: 'the access log lists the demo world’s accesses and each verifies in the browser',
    async run(t) {
      const page = await t.page()
      await t.signIn(page, 'citizen-zhang')
      await tab(page, 'citizen-access')
      await page.waitForSelector('[data-test=access-row]')
      const rows = page.locator('[data-test=access-row]')
      t.assert.ok(await rows.count() >= 2, 'the demo world has accesses to 张伟’s data')
      const decisions = await rows.evaluateAll((els) => els.map((e) => e.dataset.decision))
      t.assert.ok(decisions.every((d) => d === 'ALLOW' || d === 'DENY'))
      const oldest = rows.last()
      const started = Date.now()
      await oldest.locator('[data-test=verify]').click()
      const verdict = oldest.locator('[data-test=verify-result]')
      await verdict.waitFor()
      t.measure('citizen_verify_ms', Date.now() - started)
      t.assert.equal(await verdict.getAttribute('data-ok'), 'true', await verdict.innerText())
      t.assert.match(await verdict.locator('[data-test=verify-anchor]').innerText(), /0x[0-9a-f]{64}/)
      await t.screenshot(page, 'citizen.access.verified.desktop')

      const download = page.waitForEvent('download')
      await oldest.locator('[data-test=download-bundle]').click()
      const file = await download
      t.assert.match(file.suggestedFilename(), /^audit-entry-\d+-bundle\.json$/)
      const bundle = JSON.parse(await (await import('node:fs/promises')).readFile(await file.path(), 'utf8'))
      t.assert.equal(bundle.format, 'consent-ledger-audit-bundle/1')
    },
  },
  {
    name: 'an enterprise’s 2-of-3 consent waits for a second signer, who adds a signature at another browser',
    async run(t) {
      const rep = await t.page()
      await t.signIn(rep, 'enterprise-legal-rep')
      const { consentId, status } = await grant(t, rep, {
        idType: 'uscc', idNumber: '91370100MA5F3K2Y1G', grantee: t.key('dept-housing-fund').address, resource: 'swj.tax_credit',
        fields: ['enterprise_name', 'credit_grade'], purpose: 'loan_guarantee_review', maxUses: 3,
      })
      t.assert.equal(status, 'pending_signatures')
      t.assert.match(await rep.innerText('[data-test=consent-result-progress]'), /1 \/ 2/)

      const agent = await t.page()
      await t.signIn(agent, 'enterprise-agent-1')
      await tab(agent, 'citizen-consents')
      const row = `[data-test=consent-row][data-consent-id="${consentId}"]`
      await agent.waitForSelector(`${row}[data-status=pending_signatures]`)
      t.assert.match(await agent.innerText('[data-test=subject-threshold]'), /3 名签署人中的 2 名/)
      t.assert.equal(await agent.textContent('[data-test=subject-kind]'), '法人（企业）')
      await t.screenshot(agent, 'citizen.consents.pending.desktop')
      await agent.click(`${row} [data-test=add-signature]`)
      await agent.waitForSelector(`${row}[data-status=active]`, { timeout: 60000 })
    },
  },
  {
    name: 'objections, the inbox and every citizen page read well on a phone',
    async run(t) {
      const page = await t.page({ viewport: PHONE })
      await t.signIn(page, 'enterprise-legal-rep')
      await tab(page, 'citizen-objections')
      await page.waitForSelector('[data-test=objection-row]')
      t.assert.match(await page.innerText('[data-test=article-34]'), /第三十四条/)
      await t.screenshot(page, 'citizen.objections.phone')
      await page.click('[data-test=new-objection]')
      await page.waitForSelector('[data-test=objection-reason]')
      await t.screenshot(page, 'citizen.objections.new.phone')
      for (const [name, shot] of [['citizen-notifications', 'citizen.notifications.phone'], ['citizen-consents', 'citizen.consents.phone'],
        ['citizen-new-consent', 'citizen.new-consent.phone'], ['citizen-access', 'citizen.access.phone']]) {
        await tab(page, name)
        await page.waitForTimeout(300)
        const width = await page.evaluate(() => document.documentElement.scrollWidth)
        t.assert.ok(width <= PHONE.width + 1, `${name} fits the phone (${width} px)`)
        await t.screenshot(page, shot)
      }
      await page.waitForSelector('[data-test=access-row], [data-test=empty]')
    },
  },
  {
    name: 'in English, the inbox shows accesses by department name, newest first',
    async run(t) {
      const page = await t.page({ locale: 'en' })
      await t.signIn(page, 'citizen-zhang')
      await tab(page, 'citizen-notifications')
      await page.waitForSelector('[data-test=notification]')
      const text = await page.innerText('[data-test=notification][data-kind=ACCESS]')
      t.assert.match(text, /济南/, 'a department by its registered name')
      t.assert.match(text, /received your|asked for your/)
      const times = await page.locator('[data-test=notification] time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime'))))
      t.assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first')
      await t.screenshot(page, 'citizen.notifications.en.desktop')
      await tab(page, 'citizen-consents')
      await page.waitForSelector('[data-test=consent-row]')
      await t.screenshot(page, 'citizen.consents.en.desktop')
    },
  },
]
