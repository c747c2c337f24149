// How far a k-of-n submission has got. The listing names who signed; how many are still needed is known from
// a submission's reply (signatures_needed), remembered here for this tab.
import { reactive } from 'vue'

const remaining = reactive({})

export function pendingProgress(consent) {
  const have = (consent.signed_by ?? []).length
  const left = remaining[consent.consent_id]
  const need = left === undefined ? null : have + left
  return { have, need, percent: need ? Math.round((100 * have) / need) : 0 }
}

pendingProgress.remember = (submission) => {
  if (submission?.consent_id && submission.signatures_needed !== null && submission.signatures_needed !== undefined) {
    remaining[submission.consent_id] = submission.signatures_needed
  }
}
