// zh-CN first, English second. The device's language decides until the resident picks one in settings.
// Messages live in one file per area (src/locales/<area>.js), each exporting { 'zh-CN': {...}, en: {...} }
// under its own namespace, so that the pages of one area own their words.
import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import zhCN from 'vant/es/locale/lang/zh-CN'

const LANGUAGE_KEY = 'carbon.h5.lang'
export const LANGUAGES = ['zh-CN', 'en']
/** Each language named in itself, in both UIs (so a reader of either finds theirs): data, not messages. */
export const LANGUAGE_NAMES = { 'zh-CN': '中文', en: 'English' }

const areas = import.meta.glob('../locales/*.js', { eager: true })
const messages = { 'zh-CN': {}, en: {} }
for (const [file, module] of Object.entries(areas)) {
  const area = file.match(/([\w-]+)\.js$/)[1]
  for (const language of LANGUAGES) messages[language][area] = module.default[language]
}

export function deviceLanguage() {
  const stored = localStorage.getItem(LANGUAGE_KEY)
  if (LANGUAGES.includes(stored)) return stored
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || 'zh-CN']
  for (const tag of wanted) {
    if (/^zh/i.test(tag)) return 'zh-CN'
    if (/^en/i.test(tag)) return 'en'
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: deviceLanguage(),
  fallbackLocale: false, // a missing English message must show as missing (the tests look for keys), never as Chinese
  missingWarn: import.meta.env.DEV,
  fallbackWarn: false,
  messages,
})

function applyLanguage(language) {
  document.documentElement.lang = language
  document.title = i18n.global.t('common.appName') // index.html's <title> is the Chinese name
  Locale.use(language === 'en' ? 'en-US' : 'zh-CN', language === 'en' ? enUS : zhCN)
}

export function setLanguage(language) {
  if (!LANGUAGES.includes(language)) return
  localStorage.setItem(LANGUAGE_KEY, language)
  i18n.global.locale.value = language
  applyLanguage(language)
}

applyLanguage(i18n.global.locale.value)
