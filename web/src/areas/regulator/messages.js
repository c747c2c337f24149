// The regulator pages' messages, in both languages.
export default {
  'zh-CN': { regulator: {} },
  en: { regulator: {} },
}
