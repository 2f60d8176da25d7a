// The words of the actions pages (namespace 'actions').
export default {
  'zh-CN': {},
  en: {},
}
