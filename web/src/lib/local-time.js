// Times as the API gives them (ISO 8601, UTC) shown in the reader's own time zone and language.
export function localTime(iso, locale) {
  if (!iso) return ''
  const moment = new Date(iso)
  if (Number.isNaN(moment.getTime())) return iso
  return moment.toLocaleString(locale === 'en' ? 'en-GB' : 'zh-CN', { dateStyle: 'medium', timeStyle: 'short' })
}

export function shortHex(hex, keep = 6) {
  if (!hex || hex.length <= keep * 2 + 2) return hex ?? ''
  return `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`
}
