// The admin pages' messages, in both languages.
export default {
  'zh-CN': { admin: {} },
  en: { admin: {} },
}
