// The catalog as this department's pages use it: the API's directory (web/src/lib/directory.js), with each
// resource marked when this department provides it, and the purposes it has been granted consents for.
import { api } from '@/api.js'
import { departments as allDepartments, resources as allResources } from '@/lib/directory.js'
import { session } from '@/session.js'

export async function knownCatalog() {
  const me = session.address?.toLowerCase()
  const [resources, departments, consents] = await Promise.all([
    allResources(), allDepartments(), api.get('/v1/consents').catch(() => ({})),
  ])
  return {
    resources: resources.map((r) => ({ ...r, provided: r.provider?.address.toLowerCase() === me })),
    departments: new Map(departments.map((d) => [d.address, { name: d.name, code: d.code }])),
    purposes: [...new Set((consents.consents ?? []).map((c) => c.purpose).filter(Boolean))].sort(),
  }
}
