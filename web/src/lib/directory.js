// The API's directory: departments, the resource catalog and the subjects the signed-in key signs for. Fetched
// once per signed-in key (the promises are dropped when session.address changes) and shared by every area.
import { watch } from 'vue'
import { api } from '@/api.js'
import { session } from '@/session.js'

const cache = new Map()
watch(() => session.address, () => cache.clear())

function cached(path, key) {
  if (!cache.has(path)) {
    const promise = api.get(path).then((reply) => reply[key] ?? [])
    promise.catch(() => cache.delete(path)) // a failed fetch is tried again next time
    cache.set(path, promise)
  }
  return cache.get(path)
}

/** Drops what was fetched, after a registration changed it. */
export function forgetDirectory() {
  cache.clear()
}

/** [{address, code, name, active}] */
export const departments = () => cached('/v1/departments', 'departments')
/** [{resource_id, name, fields, provider: {address, code, name} | null, sharing_class, sensitive, active}] */
export const resources = () => cached('/v1/resources', 'resources')
/** [{subject_id, kind, threshold, signers}] */
export const mySubjects = () => cached('/v1/me/subjects', 'subjects')

/** address (lower case) → department, for naming addresses in lists. */
export async function departmentsByAddress() {
  return new Map((await departments()).map((d) => [d.address.toLowerCase(), d]))
}

/** "name (code)" for a department, or the address when the directory does not know it. */
export function departmentName(dept, address) {
  if (dept?.name) return dept.code ? `${dept.name}（${dept.code}）` : dept.name
  return address ?? dept?.address ?? ''
}
