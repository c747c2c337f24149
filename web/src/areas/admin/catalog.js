// The departments and resources registered from these pages since sign-in, kept in memory only. The API has
// no list of departments or resources yet (it answers only the registrations), so the pages show these.
import { reactive } from 'vue'

export const registeredHere = reactive({ departments: [], regulators: [], officers: [], resources: [] })
