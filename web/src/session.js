// Who is signed in, and the key that signs for them.
//
// The key never leaves the page. It is kept in memory while the tab is open and, at rest, only as a Web3
// Secret Storage keystore encrypted with the user's password (localStorage holds nothing else); the bearer
// token lives in memory only, so a reload asks for the password again. An injected EIP-1193 wallet, when
// the user picks it, keeps its key itself and signs through eth_signTypedData_v4.
import { BrowserProvider, encryptKeystoreJson, getAddress, Wallet } from 'ethers'
import { reactive } from 'vue'
import { api } from './api.js'

const KEYSTORE = 'consent-ledger.keystore'
// The scrypt cost of the copy kept in this browser: 2^15 takes about a second to open on a phone.
const SCRYPT_N = 1 << 15

export const session = reactive({
  address: null,
  roles: [],
  token: null,
  expiresAt: 0,
  wallet: null, // 'key' (held here) or 'injected'
  expired: false,
})

let signer = null

export function storedKeystore() {
  try {
    const json = localStorage.getItem(KEYSTORE)
    return json ? { address: getAddress('0x' + JSON.parse(json).address), json } : null
  } catch {
    return null
  }
}

export function forgetStoredKey() {
  localStorage.removeItem(KEYSTORE)
}

async function keep(wallet, password) {
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password,
    { scrypt: { N: SCRYPT_N } })
  localStorage.setItem(KEYSTORE, json)
}

/** Opens a keystore file (its JSON text) with its password, keeps it encrypted here and signs in. */
export async function importKeystore(json, password, progress) {
  const wallet = await Wallet.fromEncryptedJson(json, password, progress)
  await keep(wallet, password)
  return signInWith(wallet, 'key')
}

/** Devnet only: a raw hex key, kept here encrypted with the password the user chooses. */
export async function importHexKey(hex, password) {
  const wallet = new Wallet(hex.trim().startsWith('0x') ? hex.trim() : `0x${hex.trim()}`)
  await keep(wallet, password)
  return signInWith(wallet, 'key')
}

/** Opens the key kept in this browser. */
export async function unlock(password, progress) {
  const stored = storedKeystore()
  if (!stored) throw new Error('no key is kept in this browser')
  return signInWith(await Wallet.fromEncryptedJson(stored.json, password, progress), 'key')
}

export function hasInjectedWallet() {
  return typeof window !== 'undefined' && !!window.ethereum
}

export async function useInjectedWallet() {
  const provider = new BrowserProvider(window.ethereum)
  return signInWith(await provider.getSigner(), 'injected')
}

async function signInWith(candidate, kind) {
  const address = getAddress(await candidate.getAddress())
  const { message } = await api.post('/v1/auth/challenge', { address }, { token: null })
  const signature = await candidate.signMessage(message)
  const reply = await api.post('/v1/auth/login', { message, signature }, { token: null })
  signer = candidate
  Object.assign(session, {
    address: getAddress(reply.address), roles: reply.roles, token: reply.access_token,
    expiresAt: Date.now() + reply.expires_in * 1000, wallet: kind, expired: false,
  })
  return session
}

/** Signs again with the key in memory (a token lasts minutes). */
export async function refresh() {
  if (!signer) throw new Error('not signed in')
  return signInWith(signer, session.wallet)
}

export function signOut({ expired = false } = {}) {
  Object.assign(session, { address: null, roles: [], token: null, expiresAt: 0, wallet: null, expired })
  if (!expired) signer = null
}

export function hasRole(role) {
  return session.roles.includes(role)
}

/** Signs EIP-712 typed data as the API gives it (eth_signTypedData_v4 JSON). */
export async function signTypedData(typed) {
  if (!signer) throw new Error('not signed in')
  const types = { ...typed.types }
  delete types.EIP712Domain
  if (session.wallet === 'injected') {
    return window.ethereum.request({ method: 'eth_signTypedData_v4', params: [session.address, JSON.stringify(typed)] })
  }
  return signer.signTypedData(typed.domain, types, typed.message)
}

/** Signs and serialises a prepared transaction (prepare-then-sign calls give one to sign). */
export async function signTransaction(tx) {
  if (!signer) throw new Error('not signed in')
  if (session.wallet === 'injected') throw new Error('this wallet cannot sign a raw transaction here')
  const { from, gas, ...fields } = tx
  if (from && getAddress(from) !== session.address) throw new Error('the transaction is for another account')
  return signer.signTransaction({ ...fields, gasLimit: tx.gasLimit ?? gas })
}
