// The frame every page shares: serving under a strict CSP, sign-in with a keystore file, the key kept only
// encrypted, the language switch, phone width.
import { PHONE } from './lib/browser.js'

export default [
  {
    name: 'the app is served under a strict Content-Security-Policy and first renders quickly',
    async run(t) {
      const page = await t.page()
      const started = Date.now()
      const response = await page.goto(`${t.ctx.base}/app/`)
      await page.waitForSelector('[data-test=sign-in]')
      t.measure('first_render_ms', Date.now() - started)
      const csp = response.headers()['content-security-policy']
      t.assert.match(csp, /script-src 'self'/)
      t.assert.match(csp, /default-src 'none'/)
      t.assert.doesNotMatch(csp, /unsafe-(inline|eval)/)
      const deep = await page.goto(`${t.ctx.base}/app/me/consents`)
      t.assert.equal(deep.status(), 200) // a page of the app, then the guard sends it to sign in
      await page.waitForSelector('[data-test=sign-in]')
      const missing = await page.request.get(`${t.ctx.base}/app/assets/missing.js`)
      t.assert.equal(missing.status(), 404)
      await t.screenshot(page, 'sign-in.zh-CN.desktop')
    },
  },
  {
    name: 'a citizen imports a keystore file, and only an encrypted copy of the key stays in the browser',
    async run(t) {
      const page = await t.page()
      const address = await t.signIn(page, 'citizen-zhang', { via: 'keystore' })
      t.assert.equal((await page.getAttribute('[data-test=signed-in-as]', 'title')).toLowerCase(), address.toLowerCase())
      const stored = await page.evaluate(() => ({ ...localStorage }))
      const hex = (await import('ethers')).Wallet.fromEncryptedJson
      const kept = JSON.parse(stored['consent-ledger.keystore'])
      t.assert.ok((kept.crypto ?? kept.Crypto)?.ciphertext, 'the kept key is a Web3 Secret Storage keystore')
      const everything = JSON.stringify(stored)
      const privateKey = (await hex(t.key('citizen-zhang').json, t.ctx.password)).privateKey.slice(2)
      t.assert.ok(!everything.toLowerCase().includes(privateKey.toLowerCase()), 'no plain key in localStorage')
      t.assert.ok(!everything.includes('eyJ'), 'no bearer token in localStorage')
      // after a reload the token is gone and the kept key is unlocked with the password
      await page.reload()
      await page.goto(`${t.ctx.base}/app/sign-in`)
      await page.click('[data-test=mode-unlock]')
      await page.fill('[data-test=password]', t.ctx.password)
      await page.click('[data-test=sign-in]')
      await page.waitForSelector('[data-test=signed-in-as]')
    },
  },
  {
    name: 'a wrong password is refused with a message, and the language switches to English',
    async run(t) {
      const page = await t.page({ viewport: PHONE })
      await page.goto(`${t.ctx.base}/app/sign-in`)
      await page.setInputFiles('[data-test=keystore-file]', t.key('citizen-li').keystorePath)
      await page.fill('[data-test=password]', 'not the password')
      await page.click('[data-test=sign-in]')
      await page.waitForSelector('.error-notice')
      await page.click('[data-test=toggle-locale]')
      await page.waitForSelector('text=Sign in')
      t.assert.equal(await page.getAttribute('html', 'lang'), 'en')
      await t.screenshot(page, 'sign-in.en.phone')
    },
  },
]
