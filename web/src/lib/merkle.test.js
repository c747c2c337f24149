// Known answers computed with the project's Python (ledger.audit: MerkleTree, hash_leaf, NoteSigner, TlogProof)
// for a 7-leaf tree and a checkpoint signed by a seeded key, plus a bundle from the devnet's demo world.
import { describe, expect, it } from 'vitest'
import {
  base64ToBytes, bytesToBase64, bytesToHex, hashLeaf, hexToBytes, openNote, parseCheckpoint, parseTlogProof,
  parseVerifierKey, ProofError, rootFromInclusionProof, verifyBundle, verifyInclusion,
} from './merkle.js'
import vectors from './merkle.vectors.json'

const hashes = (list) => list.map(hexToBytes)

function flipByte(bytes, at = 0) {
  const copy = bytes.slice()
  copy[at] ^= 0x01
  return copy
}

describe('RFC 6962 hashes', () => {
  it('hashes each leaf as SHA-256(0x00 || utf-8 leaf)', async () => {
    for (const [i, leaf] of vectors.leaves.entries()) {
      expect(bytesToHex(await hashLeaf(leaf))).toBe('0x' + vectors.leaf_hashes[i])
    }
  })
})

describe('inclusion proofs (RFC 9162)', () => {
  it('every known proof leads to the known root', async () => {
    for (const { index, size, path } of vectors.proofs) {
      const leaf = hexToBytes(vectors.leaf_hashes[index])
      const root = hexToBytes(vectors.roots[size])
      expect(await verifyInclusion(leaf, index, size, hashes(path), root), `${index} of ${size}`).toBe(true)
    }
  })

  const proof = vectors.proofs.find((p) => p.index === 5 && p.size === 7)
  const leaf = hexToBytes(vectors.leaf_hashes[5])
  const root = hexToBytes(vectors.roots[7])

  it('fails at the wrong index', async () => {
    for (const index of [4, 6, 0, 7, 100]) {
      expect(await verifyInclusion(leaf, index, 7, hashes(proof.path), root), `index ${index}`).toBe(false)
    }
  })

  it('fails with a flipped byte in the path, the leaf or the root', async () => {
    for (let i = 0; i < proof.path.length; i++) {
      const path = hashes(proof.path)
      path[i] = flipByte(path[i], 31)
      expect(await verifyInclusion(leaf, 5, 7, path, root)).toBe(false)
    }
    expect(await verifyInclusion(flipByte(leaf), 5, 7, hashes(proof.path), root)).toBe(false)
    expect(await verifyInclusion(leaf, 5, 7, hashes(proof.path), flipByte(root, 7))).toBe(false)
  })

  it('fails with a short or a long path, or the wrong size', async () => {
    expect(await verifyInclusion(leaf, 5, 7, hashes(proof.path.slice(0, -1)), root)).toBe(false)
    expect(await verifyInclusion(leaf, 5, 7, hashes([...proof.path, proof.path[0]]), root)).toBe(false)
    expect(await verifyInclusion(leaf, 5, 6, hashes(proof.path), root)).toBe(false)
    await expect(rootFromInclusionProof(leaf, 5, 7, hashes(proof.path.slice(1)))).rejects.toThrow(ProofError)
  })
})

describe('signed notes and checkpoints (C2SP)', () => {
  it('reads the verifier key and checks its key id', async () => {
    const key = await parseVerifierKey(vectors.vkey)
    expect(key.name).toBe('example.test/log')
    expect(key.publicKey.length).toBe(32)
    const [name, id] = vectors.vkey.split('+')
    await expect(parseVerifierKey(vectors.vkey.replace(`${name}+${id}`, `${name}+00000000`))).rejects.toThrow(ProofError)
  })

  it('opens a checkpoint the log key signed', async () => {
    const text = await openNote(vectors.note, await parseVerifierKey(vectors.vkey))
    const checkpoint = parseCheckpoint(text, 'example.test/log')
    expect(checkpoint.size).toBe(7n)
    expect(bytesToHex(checkpoint.root)).toBe('0x' + vectors.roots[7])
  })

  it('refuses a changed checkpoint, a changed signature and an unknown key', async () => {
    const key = await parseVerifierKey(vectors.vkey)
    await expect(openNote(vectors.note.replace('\n7\n', '\n8\n'), key)).rejects.toThrow(ProofError)
    const [text, line] = vectors.note.split('\n\n')
    const [dash, name, sig] = line.trim().split(' ')
    const forged = bytesToBase64(flipByte(base64ToBytes(sig), 10))
    await expect(openNote(`${text}\n\n${dash} ${name} ${forged}\n`, key)).rejects.toThrow(ProofError)
    await expect(openNote(`${text}\n\n${dash} other.test/log ${sig}\n`, key)).rejects.toThrow('no signature')
  })

  it('refuses a checkpoint of another log', async () => {
    const text = await openNote(vectors.note, await parseVerifierKey(vectors.vkey))
    expect(() => parseCheckpoint(text, 'another/log')).toThrow(ProofError)
  })
})

describe('tlog-proof bundles', () => {
  it('verifies the known bundle', async () => {
    const result = await verifyBundle(vectors.bundle, vectors.vkey, { seq: 5 })
    expect(result.ok).toBe(true)
    expect(result.checks.map((c) => c.check)).toEqual(['logKey', 'signature', 'origin', 'index', 'inclusion'])
    expect(result.root).toBe('0x' + vectors.roots[7])
    expect(result.leafHash).toBe('0x' + vectors.leaf_hashes[5])
  })

  it('verifies a bundle from the devnet demo world', async () => {
    const result = await verifyBundle(vectors.devnet.bundle, vectors.devnet.log_key, { seq: 0 })
    expect(result.ok).toBe(true)
    expect(result.anchor.tx_hash).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('fails a changed leaf, a wrong index, a flipped path byte, a short path and a wrong seq', async () => {
    const { leaf, proof } = vectors.bundle
    const parsed = parseTlogProof(proof)
    const lines = proof.split('\n')
    const pathAt = lines.indexOf('index 5') + 1
    const withLines = (edit) => {
      const copy = lines.slice()
      edit(copy)
      return copy.join('\n')
    }
    const cases = {
      'changed leaf': { leaf: leaf.replace('条目5', '条目6'), proof },
      'wrong index': { leaf: leaf.replace('"seq":5', '"seq":4'), proof: proof.replace('index 5', 'index 4') },
      'flipped byte': { leaf, proof: withLines((l) => { l[pathAt] = bytesToBase64(flipByte(parsed.path[0], 3)) }) },
      'short path': { leaf, proof: withLines((l) => { l.splice(pathAt, 1) }) },
      'signature of another key': { leaf, proof: proof.replace(/— example\.test\/log \S+/, '— example.test/log ' + bytesToBase64(new Uint8Array(68))) },
    }
    for (const [name, bundle] of Object.entries(cases)) {
      expect((await verifyBundle(bundle, vectors.vkey)).ok, name).toBe(false)
    }
    expect((await verifyBundle(vectors.bundle, vectors.vkey, { seq: 4 })).ok).toBe(false)
    expect((await verifyBundle(vectors.bundle, vectors.devnet.log_key)).ok).toBe(false)
  })
})
