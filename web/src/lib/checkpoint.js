// The log's checkpoint (C2SP tlog-checkpoint in a signed note): origin, tree size and root hash, and a check
// of its Ed25519 signature against the log's public key (/app/config.json log_key, a note verifier key
// "name+hash+base64(0x01 || key)"), with WebCrypto.

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

function toHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** { origin, size, rootHash (0x hex), extensions, body (the signed text), signatures: [{ name, bytes }] } */
export function parseCheckpoint(note) {
  const split = note.indexOf('\n\n')
  if (split < 0) throw new Error('not a signed note: no blank line before the signatures')
  const body = note.slice(0, split + 1)
  const [origin, size, root, ...extensions] = body.slice(0, -1).split('\n')
  if (!origin || !/^\d+$/.test(size ?? '') || !root) throw new Error('not a checkpoint: origin, size and root expected')
  const signatures = note.slice(split + 2).split('\n').filter((l) => l.startsWith('— ')).map((line) => {
    const [, name, sig] = line.split(' ')
    return { name, bytes: fromBase64(sig) }
  })
  return { origin, size: Number(size), rootHash: toHex(fromBase64(root)), extensions, body, signatures }
}

/** true or false: whether a signature by the verifier key's name checks; null if this browser cannot tell. */
export async function checkpointSignatureValid(checkpoint, verifierKey) {
  const [name, keyHash, key] = verifierKey.split('+')
  const raw = fromBase64(key)
  const signature = checkpoint.signatures.find((s) => s.name === name)
  if (!signature || raw[0] !== 1 || signature.bytes.length !== 68) return false
  if (toHex(signature.bytes.slice(0, 4)).slice(2) !== keyHash) return false
  let publicKey
  try {
    publicKey = await crypto.subtle.importKey('raw', raw.slice(1), { name: 'Ed25519' }, false, ['verify'])
  } catch {
    return null
  }
  return crypto.subtle.verify({ name: 'Ed25519' }, publicKey, signature.bytes.slice(4),
    new TextEncoder().encode(checkpoint.body))
}
