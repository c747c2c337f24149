// An act the signed-in key must sign itself (prepare-then-sign): the first call answers the transaction to
// sign; it is signed here and sent again as signed_transaction. A call the platform relays answers at once.
import { api } from '@/api.js'
import { signTransaction } from '@/session.js'

export async function postSignedAct(path, body = {}) {
  const prepared = await api.post(path, body)
  if (!prepared?.transaction) return prepared
  const signed = await signTransaction(prepared.transaction)
  return api.post(path, { ...body, signed_transaction: signed })
}
