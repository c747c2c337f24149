// Run by tests/browser/test_pages.py after it has changed one audit row in the database behind the API's
// back (CONSENT_LEDGER_TAMPERED_SEQ names it): the regulator's full verification in the page reports it.
export default [
  {
    name: 'the regulator runs a full verification and sees the changed row reported',
    async run(t) {
      const seq = process.env.CONSENT_LEDGER_TAMPERED_SEQ
      t.assert.ok(seq, 'CONSENT_LEDGER_TAMPERED_SEQ names the changed row')
      const page = await t.page()
      await t.signIn(page, 'regulator')
      await page.click('[data-test=nav-regulator]')
      await page.click('[data-test=verify-full]')
      const outcome = page.locator('[data-test=verify-outcome]')
      await outcome.waitFor({ timeout: 300000 })
      t.assert.equal(await outcome.getAttribute('data-ok'), 'false')
      const altered = page.locator(`[data-test=problem][data-code=ENTRY_ALTERED][data-seq="${seq}"]`)
      t.assert.equal(await altered.count(), 1, await outcome.innerText())
      await t.screenshot(page, 'regulator.verify.tampered.desktop')
    },
  },
]
