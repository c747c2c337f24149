// Helpers for the department console's browser tests, for this area's spec and any other that needs a
// query run through the page (the grant → query → revoke → denied flow).
import { Wallet } from 'ethers'

/** Runs a query on /app/dept/query in a signed-in department's page; answers what the page shows. */
export async function runQuery(page, { idType = 'resident_id', idNumber, resource, fields, purpose, emergencyId } = {}) {
  // the token lives in memory only, so move inside the app rather than load the page again
  if (!new URL(page.url()).pathname.endsWith('/dept/query')) {
    await page.click('[data-test=nav-department]')
    await page.click('[data-test=tab-department-query]')
  }
  await page.waitForSelector('[data-test=query-submit]')
  await page.click(`[data-test=query-id-type] [data-value=${idType}]`)
  await page.fill('[data-test=query-id-number]', idNumber)
  await page.click('[data-test=query-resource]')
  await page.click(`.el-select-dropdown__item[data-value="${resource}"]`)
  for (const field of fields) {
    const input = page.locator(`[data-test=query-fields] [data-field="${field}"] input`)
    if (!(await input.isChecked())) await page.locator(`[data-test=query-fields] [data-field="${field}"]`).click()
  }
  // fields offered but not asked for are left unticked
  for (const other of await page.locator('[data-test=query-fields] [data-field]').all()) {
    const name = await other.getAttribute('data-field')
    if (!fields.includes(name) && (await other.locator('input').isChecked())) await other.click()
  }
  await page.fill('[data-test=query-purpose]', purpose)
  await page.fill('[data-test=query-emergency]', emergencyId ? String(emergencyId) : '')
  const shown = page.locator('[data-test=query-result]')
  const previous = (await shown.count()) ? await shown.getAttribute('data-seq') : null
  await page.click('[data-test=query-submit]')
  await page.waitForFunction((seq) => {
    const result = document.querySelector('[data-test=query-result]')
    return (result && result.dataset.seq !== seq) || document.querySelector('[data-test=query-error]')
  }, previous)
  const result = page.locator('[data-test=query-result]')
  if (!(await result.count())) {
    return { decision: null, code: await page.textContent('[data-test=query-error] [data-test=error-code]'), disputed: [] }
  }
  const disputed = []
  for (const row of await page.locator('[data-test=query-disputed] [data-objection]').all()) {
    disputed.push({ field: await row.getAttribute('data-field'), objection_id: Number(await row.getAttribute('data-objection')) })
  }
  return {
    decision: await result.getAttribute('data-decision'),
    code: await result.getAttribute('data-code'),
    seq: Number(await result.getAttribute('data-seq')),
    disputed,
  }
}

/** Signs in to the API from node with a key (SIWE), for setting up what a test needs; the bearer token. */
export async function apiToken(base, wallet) {
  const post = async (path, body, token) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
    const data = await response.json()
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(data)}`)
    return data
  }
  const { message } = await post('/v1/auth/challenge', { address: wallet.address })
  const { access_token: token } = await post('/v1/auth/login', { message, signature: await wallet.signMessage(message) })
  return { token, post: (path, body) => post(path, body, token) }
}

/** The subject's signers grant a consent from node (draft, each signs, submit); answers its consent id. */
export async function grantConsent(t, signerNames, { idType = 'resident_id', idNumber, grantee, resource, fields, purpose,
  days = 30, maxUses = 0 }) {
  const wallets = await Promise.all([signerNames].flat().map((name) => Wallet.fromEncryptedJson(t.key(name).json, t.ctx.password)))
  const signer = await apiToken(t.ctx.base, wallets[0])
  const now = new Date()
  const draft = await signer.post('/v1/consents/drafts', {
    id_type: idType, id_number: idNumber, grantee, resources: [{ resource_id: resource, fields }], purpose,
    valid_from: now.toISOString(), valid_until: new Date(now.getTime() + days * 86400e3).toISOString(), max_uses: maxUses,
  })
  const typed = draft.typed_data
  const types = { ...typed.types }
  delete types.EIP712Domain
  const signatures = await Promise.all(wallets.map((w) => w.signTypedData(typed.domain, types, typed.message)))
  await signer.post('/v1/consents', { typed_data: typed, signatures })
  return draft.consent_id
}
