// What this department can learn of the catalog. The API has no catalog listing, so the resources, their
// fields and the departments' names are gathered from every list the department may read: consents granted
// to it, sharing requests and agreements, verification requests, suspensions and objections.
import { api } from '@/api.js'
import { session } from '@/session.js'

function remember(map, id, { fields = [], name = null, provided = false } = {}) {
  if (!id) return
  const known = map.get(id) ?? { resource_id: id, fields: new Set(), name: null, provided: false }
  for (const f of fields) known.fields.add(f)
  known.name ??= name
  known.provided ||= provided
  map.set(id, known)
}

export async function knownCatalog() {
  const me = session.address
  const [consents, sharing, verifications, suspensions, objections] = await Promise.allSettled([
    api.get('/v1/consents'), api.get('/v1/sharing-requests'), api.get('/v1/verification-requests'),
    api.get('/v1/suspensions'), api.get('/v1/objections'),
  ]).then((all) => all.map((r) => (r.status === 'fulfilled' ? r.value : {})))
  const resources = new Map()
  const departments = new Map()
  const purposes = new Set()
  for (const c of consents.consents ?? []) {
    for (const r of c.resources ?? []) remember(resources, r.resource_id, { fields: r.fields })
    if (c.purpose) purposes.add(c.purpose)
  }
  for (const r of sharing.sharing_requests ?? []) remember(resources, r.resource_id, { fields: r.fields, provided: r.requester !== me })
  for (const a of sharing.agreements ?? []) remember(resources, a.resource_id, { fields: a.fields, provided: a.department !== me })
  for (const v of verifications.verification_requests ?? []) remember(resources, v.resource_id, { fields: v.fields, provided: v.requester !== me })
  for (const s of suspensions.suspensions ?? []) {
    remember(resources, s.resource_id, { provided: s.provider === me })
    if (s.department_name) departments.set(s.department, { name: s.department_name, code: s.department_code })
  }
  for (const o of objections.objections ?? []) remember(resources, o.resource_id, { fields: o.fields, name: o.resource_name, provided: o.provider === me })
  return {
    resources: [...resources.values()].map((r) => ({ ...r, fields: [...r.fields] })).sort((a, b) => a.resource_id.localeCompare(b.resource_id)),
    departments,
    purposes: [...purposes].sort(),
  }
}
