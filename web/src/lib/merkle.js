// Checks an audit entry's proof in the browser, trusting only the log's published key: the RFC 6962 hashes
// (leaf SHA-256(0x00 || leaf), node SHA-256(0x01 || left || right)), the RFC 9162 inclusion algorithm, C2SP
// signed notes with Ed25519 (c2sp.org/signed-note), checkpoints and tlog-proofs (c2sp.org/tlog-proof).
// The same encodings as ledger/audit/hasher.py, proofs.py, note.py and bundle.py.

const encoder = new TextEncoder()
const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1'
const ED25519 = 0x01

export class ProofError extends Error {
  constructor(message) {
    super(message)
    this.name = 'ProofError'
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

export function hexToBytes(hex) {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new ProofError(`not hex: ${hex}`)
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function bytesToHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** Strict base64 (canonical: it must encode back to the same text). */
export function base64ToBytes(text, what = 'base64') {
  let binary
  try {
    binary = atob(text)
  } catch {
    throw new ProofError(`${what} is not base64`)
  }
  const out = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  if (bytesToBase64(out) !== text) throw new ProofError(`${what} is not canonical base64`)
  return out
}

export function bytesToBase64(bytes) {
  return btoa(String.fromCharCode(...bytes))
}

/** SHA-256(0x00 || leaf): a leaf is the entry's canonical JSON text, hashed as UTF-8. */
export async function hashLeaf(leaf) {
  const bytes = typeof leaf === 'string' ? encoder.encode(leaf) : leaf
  return sha256(concat(Uint8Array.of(0), bytes))
}

/** SHA-256(0x01 || left || right). */
export async function hashChildren(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right))
}

/** The root an inclusion path leads to (RFC 9162 §2.1.3.2); throws when the path cannot be for this index and size. */
export async function rootFromInclusionProof(leafHash, index, size, path) {
  let fn = BigInt(index)
  let sn = BigInt(size) - 1n
  if (fn < 0n || fn > sn) throw new ProofError(`index ${index} is outside a tree of size ${size}`)
  let r = leafHash
  for (const p of path) {
    if (p.length !== 32) throw new ProofError('an inclusion path hash is not 32 bytes')
    if (sn === 0n) throw new ProofError('the inclusion path is longer than the tree is deep')
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r)
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n
        sn >>= 1n
      }
    } else {
      r = await hashChildren(r, p)
    }
    fn >>= 1n
    sn >>= 1n
  }
  if (sn !== 0n) throw new ProofError('the inclusion path is shorter than the tree is deep')
  return r
}

/** Whether `path` proves the leaf hash at `index` in the tree of `size` with `root`. */
export async function verifyInclusion(leafHash, index, size, path, root) {
  try {
    return equalBytes(await rootFromInclusionProof(leafHash, index, size, path), root)
  } catch (e) {
    if (e instanceof ProofError) return false
    throw e
  }
}

async function keyId(name, publicKey) {
  return (await sha256(concat(encoder.encode(name), Uint8Array.of(0x0a, ED25519), publicKey))).slice(0, 4)
}

/** A C2SP verifier key, `<name>+<key id hex>+<base64(0x01 || Ed25519 public key)>`. */
export async function parseVerifierKey(vkey) {
  // name+keyid+key: the name has no '+', the base64 key may
  const first = vkey.indexOf('+')
  const second = vkey.indexOf('+', first + 1)
  const parts = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)]
  if (first < 1 || second < 0 || !/^[0-9a-f]{8}$/.test(parts[1])) throw new ProofError('the log key is not a verifier key')
  const raw = base64ToBytes(parts[2], 'the log key')
  if (raw.length !== 33 || raw[0] !== ED25519) throw new ProofError('the log key is not an Ed25519 key')
  const publicKey = raw.slice(1)
  const id = hexToBytes(parts[1])
  if (!equalBytes(id, await keyId(parts[0], publicKey))) throw new ProofError('the log key id does not match its key')
  return { name: parts[0], keyId: id, publicKey }
}

/**
 * Opens a signed note with one verifier key: the note's text if that key signed it. Signatures by other keys
 * are ignored; a signature by this key that does not verify, or none at all, is a ProofError.
 */
export async function openNote(note, verifier) {
  const cut = note.lastIndexOf('\n\n')
  if (cut < 0 || !note.endsWith('\n')) throw new ProofError('a signed note is text, a blank line and signature lines')
  const text = note.slice(0, cut + 1)
  const lines = note.slice(cut + 2, -1).split('\n')
  const key = await crypto.subtle.importKey('raw', verifier.publicKey, { name: 'Ed25519' }, false, ['verify'])
  let verified = false
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line)
    if (!match) throw new ProofError('a signature line is malformed')
    const blob = base64ToBytes(match[2], 'a note signature')
    if (blob.length < 5) throw new ProofError('a note signature is too short')
    if (match[1] !== verifier.name || !equalBytes(blob.slice(0, 4), verifier.keyId)) continue
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, blob.slice(4), encoder.encode(text)))) {
      throw new ProofError('the log key signature does not verify')
    }
    verified = true
  }
  if (!verified) throw new ProofError('the note has no signature by the log key')
  return text
}

/** A checkpoint's text: origin, decimal size, base64 root, then optional extension lines. */
export function parseCheckpoint(text, origin) {
  const lines = text.split('\n')
  if (lines.length < 4 || lines.at(-1) !== '' || lines.slice(0, -1).some((l) => !l)) throw new ProofError('a checkpoint is at least three lines')
  if (origin && lines[0] !== origin) throw new ProofError(`the checkpoint is for log ${lines[0]}, not ${origin}`)
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new ProofError('the checkpoint size is not a decimal')
  const root = base64ToBytes(lines[2], 'the checkpoint root')
  if (root.length !== 32) throw new ProofError('the checkpoint root is not 32 bytes')
  return { origin: lines[0], size: BigInt(lines[1]), root }
}

/** A C2SP tlog-proof: its index, inclusion path and checkpoint note (verbatim). */
export function parseTlogProof(text) {
  const cut = text.indexOf('\n\n')
  if (cut < 0 || cut + 2 >= text.length) throw new ProofError('the tlog-proof has no checkpoint')
  const lines = text.slice(0, cut).split('\n')
  if (lines[0] !== TLOG_PROOF_HEADER) throw new ProofError(`the tlog-proof does not start with ${TLOG_PROOF_HEADER}`)
  const rest = lines.slice(1)
  if (rest[0]?.startsWith('extra ')) rest.shift()
  const match = /^index (0|[1-9][0-9]*)$/.exec(rest[0] ?? '')
  if (!match) throw new ProofError("the tlog-proof has no 'index N' line")
  const path = rest.slice(1).map((line, i) => {
    const h = base64ToBytes(line, `inclusion path hash ${i}`)
    if (h.length !== 32) throw new ProofError(`inclusion path hash ${i} is not 32 bytes`)
    return h
  })
  return { index: BigInt(match[1]), path, checkpoint: text.slice(cut + 2) }
}

/**
 * Checks an entry's offline proof bundle (GET /v1/audit/entries/{seq}/bundle) against the log's verifier key:
 * the checkpoint's signature, its origin, the leaf's index, and the inclusion path from the leaf's hash to the
 * checkpoint's root. Returns { ok, checks: [{ check, ok, detail }], leafHash, size, root, anchor }.
 */
export async function verifyBundle(bundle, vkey, { seq, origin } = {}) {
  const checks = []
  const record = (check, ok, detail = '') => {
    checks.push({ check, ok, detail })
    return ok
  }
  const result = { ok: false, checks, leafHash: null, size: null, root: null, anchor: bundle?.anchor ?? null }
  try {
    const verifier = await parseVerifierKey(vkey)
    record('logKey', true, verifier.name)
    const proof = parseTlogProof(bundle.proof)
    const text = await openNote(proof.checkpoint, verifier)
    record('signature', true, verifier.name)
    const checkpoint = parseCheckpoint(text, origin ?? verifier.name)
    result.size = checkpoint.size
    result.root = bytesToHex(checkpoint.root)
    record('origin', true, checkpoint.origin)
    const entry = JSON.parse(bundle.leaf)
    if (!record('index', BigInt(entry.seq) === proof.index && (seq === undefined || BigInt(seq) === proof.index),
      `${proof.index}`)) return result
    const leafHash = await hashLeaf(bundle.leaf)
    result.leafHash = bytesToHex(leafHash)
    if (!record('inclusion', await verifyInclusion(leafHash, proof.index, checkpoint.size, proof.path, checkpoint.root),
      `${proof.index} / ${checkpoint.size}`)) return result
    result.ok = true
  } catch (e) {
    if (!(e instanceof ProofError) && !(e instanceof SyntaxError) && e?.name !== 'DataError') throw e
    record('error', false, e.message)
  }
  return result
}
