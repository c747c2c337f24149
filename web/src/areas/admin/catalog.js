// The regulators and emergency officers registered from these pages since sign-in, kept in memory only (the
// directory lists departments and resources; it has no list of regulators or officers).
import { reactive } from 'vue'

export const registeredHere = reactive({ regulators: [], officers: [] })
