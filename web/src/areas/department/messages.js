// The department pages' messages, in both languages.
export default {
  'zh-CN': { department: {} },
  en: { department: {} },
}
