// Simplified Chinese first, English one click away. Each area keeps its own messages (areas/*/messages.js)
// so the pages of one actor are translated in one place.
import { createI18n } from 'vue-i18n'
import admin from './areas/admin/messages.js'
import citizen from './areas/citizen/messages.js'
import department from './areas/department/messages.js'
import regulator from './areas/regulator/messages.js'
import common from './messages.js'

export const LOCALES = ['zh-CN', 'en']
const STORED = 'consent-ledger.locale'

function merged(locale) {
  return Object.assign({}, ...[common, citizen, department, regulator, admin].map((m) => m[locale]))
}

function initialLocale() {
  const stored = typeof localStorage !== 'undefined' && localStorage.getItem(STORED)
  return LOCALES.includes(stored) ? stored : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: Object.fromEntries(LOCALES.map((l) => [l, merged(l)])),
})

if (typeof document !== 'undefined') document.documentElement.lang = i18n.global.locale.value

export function setLocale(locale) {
  i18n.global.locale.value = locale
  localStorage.setItem(STORED, locale)
  document.documentElement.lang = locale
}
