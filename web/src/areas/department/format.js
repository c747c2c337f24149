// Small display helpers shared by the department pages.
import { localTime, shortHex } from '@/lib/local-time.js'

export { localTime, shortHex }

/** A department as people know it: its registered name and code when known, else its short address. */
export function departmentLabel(address, departments, me) {
  if (!address) return ''
  const known = departments?.get(address)
  if (known?.name) return known.code ? `${known.name}（${known.code}）` : known.name
  return shortHex(address, 4) + (me && address === me ? ' ★' : '')
}

/** Whole calendar days from now until an ISO time (negative once past). */
export function daysLeft(iso) {
  if (!iso) return null
  return Math.ceil((new Date(iso).getTime() - Date.now()) / 86400e3)
}

/** An ISO time from a date picker's value (a Date), or null. */
export function isoOrNull(date) {
  return date ? new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z') : null
}
