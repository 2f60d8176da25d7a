// The words of the mall pages (namespace 'mall').
export default {
  'zh-CN': {},
  en: {},
}
