// The words of the account pages (namespace 'account').
export default {
  'zh-CN': {},
  en: {},
}
