// What the citizen pages share: how times and addresses are shown, the ID the signer typed (kept in memory for
// this tab only, never stored), and the departments and resources the API has named to this signer.
import { reactive } from 'vue'
import { api } from '@/api.js'

/** The subject the signer last typed, so the next form starts with it; gone on reload. */
export const lastSubject = reactive({ id_type: 'resident_id', id_number: '' })

const RESIDENT_ID = /^[0-9]{17}[0-9X]$/
const USCC = /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/
export function idNumberOk(idType, idNumber) {
  return (idType === 'uscc' ? USCC : RESIDENT_ID).test((idNumber ?? '').trim().toUpperCase())
}

export function formatTime(value, locale) {
  if (value === null || value === undefined || value === '') return ''
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  if (Number.isNaN(date.getTime())) return String(value)
  return date.toLocaleString(locale === 'en' ? 'en-GB' : 'zh-CN', { dateStyle: 'medium', timeStyle: 'short' })
}

export function short(hex, head = 6, tail = 4) {
  if (!hex) return ''
  return hex.length > head + tail + 1 ? `${hex.slice(0, head)}…${hex.slice(-tail)}` : hex
}

export function sameAddress(a, b) {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase()
}

/**
 * Departments (address → {address, code, name}) and resources (id → {id, name, fields}) as the API has named them
 * in this signer's inbox, access log, consents and objections. The API has no public directory, so this is what a
 * citizen has dealt with; the forms also take an address or a resource id typed in.
 */
export async function loadDirectory() {
  const departments = new Map()
  const resources = new Map()
  const department = (address, code, name) => {
    if (!address) return
    const key = address.toLowerCase()
    const known = departments.get(key) ?? { address, code: null, name: null }
    departments.set(key, { address, code: code ?? known.code, name: name ?? known.name })
  }
  const resource = (id, name, fields = []) => {
    if (!id) return
    const known = resources.get(id) ?? { id, name: null, fields: new Set() }
    known.name = name ?? known.name
    for (const f of fields) known.fields.add(f)
    resources.set(id, known)
  }
  const [inbox, log, consents, objections] = await Promise.allSettled([
    api.get('/v1/me/notifications', { query: { limit: 200 } }), api.get('/v1/me/access-log', { query: { limit: 1000 } }),
    api.get('/v1/consents'), api.get('/v1/objections'),
  ])
  for (const n of inbox.value?.notifications ?? []) {
    if (n.access) {
      department(n.access.department.address, n.access.department.code, n.access.department.name)
      resource(n.access.resource_id, n.access.resource_name, n.access.fields)
    }
    if (n.consent) department(n.consent.grantee.address, n.consent.grantee.code, n.consent.grantee.name)
    if (n.objection) resource(n.objection.resource_id, n.objection.resource_name, n.objection.fields)
  }
  for (const e of log.value?.entries ?? []) {
    department(e.requester, null, e.requester_name)
    resource(e.resource, null, e.fields)
  }
  for (const c of consents.value?.consents ?? []) {
    department(c.grantee)
    for (const r of c.resources ?? []) resource(r.resource_id, null, r.fields)
  }
  for (const o of objections.value?.objections ?? []) resource(o.resource_id, o.resource_name, o.fields)
  return { departments, resources }
}

export function departmentLabel(dept, address) {
  if (dept?.name) return dept.code ? `${dept.name}（${dept.code}）` : dept.name
  return address ?? dept?.address ?? ''
}

/** Saves JSON as a file through a Blob and a temporary link (no inline script, nothing leaves the page). */
export function saveJson(data, filename) {
  const blob = new Blob([JSON.stringify(data, null, 2) + '\n'], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
