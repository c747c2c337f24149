// Helpers for the citizen portal's browser tests: moving between its tabs and granting a consent in the page.

export async function tab(page, name) {
  if (!(await page.locator(`[data-test=tab-${name}]`).count())) await page.click('[data-test=nav-citizen]')
  await page.click(`[data-test=tab-${name}]`)
  await page.waitForSelector('[data-test=loading]', { state: 'detached' }).catch(() => {})
}

/** Chooses the option with this data-value in an el-select. */
export async function pick(page, test, value) {
  await page.click(`[data-test=${test}]`)
  await page.click(`.el-select-dropdown__item[data-value="${value}"]`)
}

/** Fills the new-consent form and signs it; the consent's id and status from the result. */
export async function grant(t, page, { idType = 'resident_id', idNumber, grantee, resource, fields, purpose, maxUses = 0, shot }) {
  await tab(page, 'citizen-new-consent')
  if (idType !== 'resident_id') {
    await page.click('[data-test=consent-id-type]')
    await page.click(`.el-select-dropdown__item >> text=${idType === 'uscc' ? '统一社会信用代码' : '居民身份证'}`)
  }
  await page.fill('[data-test=consent-id-number]', idNumber)
  await pick(page, 'consent-grantee', grantee)
  await pick(page, 'consent-resource', resource)
  for (const field of fields) {
    await page.locator(`[data-test=consent-fields] input[data-field="${field}"]`).check()
    t.assert.ok(await page.locator(`[data-test=consent-fields] input[data-field="${field}"]`).isChecked(), `${field} is checked`)
  }
  await page.fill('[data-test=consent-purpose]', purpose)
  await page.fill('[data-test=consent-max-uses]', String(maxUses))
  await page.click('[data-test=consent-review]')
  const plain = await page.waitForSelector('[data-test=consent-plain]')
  const words = await plain.innerText()
  for (const field of fields) t.assert.ok(words.includes(field), `the plain words name ${field}`)
  t.assert.ok(words.includes(purpose), 'the plain words name the purpose')
  t.assert.match(words, /链 ID \d+/)
  if (shot) await t.screenshot(page, shot)
  await page.click('[data-test=consent-sign]')
  const result = await page.waitForSelector('[data-test=consent-result]', { timeout: 60000 })
  return { consentId: await result.getAttribute('data-consent-id'), status: await result.getAttribute('data-status'), result }
}
