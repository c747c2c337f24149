// Helpers for the regulator console's browser tests, for this area's spec and any other that needs a
// verification run through the page (a tampered row must show up as a problem with its code).

/** Runs a verification from the verify page and waits for its outcome; answers { ok, codes }. */
export async function runVerification(page, { full = false } = {}) {
  if (!new URL(page.url()).pathname.endsWith('/reg/verify')) {
    await page.click('[data-test=nav-regulator]')
    await page.click('[data-test=tab-regulator-verify]')
  }
  const previous = await page.getAttribute('[data-test=verify-outcome]', 'data-job', { timeout: 1000 }).catch(() => null)
  await page.click(full ? '[data-test=verify-full]' : '[data-test=verify-start]')
  await page.waitForSelector('[data-test=verify-progress]')
  await page.waitForFunction((job) => {
    const outcome = document.querySelector('[data-test=verify-outcome]')
    return outcome && outcome.dataset.job !== job
  }, previous, { timeout: 120000 })
  const ok = (await page.getAttribute('[data-test=verify-outcome]', 'data-ok')) === 'true'
  const codes = await page.locator('[data-test=problem]').evaluateAll((rows) => rows.map((r) => r.dataset.code))
  return { ok, codes }
}
