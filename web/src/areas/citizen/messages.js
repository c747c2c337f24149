// The citizen pages' messages, in both languages.
export default {
  'zh-CN': { citizen: {} },
  en: { citizen: {} },
}
