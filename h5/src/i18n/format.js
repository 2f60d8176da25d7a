// Numbers, grams and times as the resident's language writes them. Times are shown in Beijing time, whatever
// the phone's own zone: a cap's "day" is a Beijing day, so the receipts must read the same way.
import { i18n } from './index.js'

const ZONE = 'Asia/Shanghai'

function language() {
  return i18n.global.locale.value
}

export function number(value, options = {}) {
  if (value === null || value === undefined) return '—'
  return new Intl.NumberFormat(language(), options).format(value)
}

export function points(value) {
  return number(value, { maximumFractionDigits: 0 })
}

/** Grams CO2e as g, kg or t, by magnitude, with the unit in the resident's language. */
export function grams(value) {
  if (value === null || value === undefined) return '—'
  const { t } = i18n.global
  const abs = Math.abs(value)
  if (abs >= 1_000_000) return t('common.units.tonnes', { n: number(value / 1_000_000, { maximumFractionDigits: 2 }) })
  if (abs >= 1_000) return t('common.units.kilograms', { n: number(value / 1_000, { maximumFractionDigits: 1 }) })
  return t('common.units.grams', { n: number(value, { maximumFractionDigits: 0 }) })
}

export function dateTime(iso) {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(language(), {
    timeZone: ZONE, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(iso))
}

export function date(iso) {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(language(), { timeZone: ZONE, year: 'numeric', month: 'short', day: 'numeric' })
    .format(new Date(iso))
}

export function time(iso) {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(language(), { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hour12: false })
    .format(new Date(iso))
}

/** "2026-12" as the language names a month (十二月 2026 / Dec 2026). */
export function month(yearMonth) {
  const [year, mon] = yearMonth.split('-').map(Number)
  return new Intl.DateTimeFormat(language(), { timeZone: 'UTC', year: 'numeric', month: 'short' })
    .format(new Date(Date.UTC(year, mon - 1, 15)))
}

/** Today's date in Beijing as YYYY-MM-DD. */
export function beijingToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date())
}

/** A localised name from a record with name_zh / name_en. */
export function localName(record, field = 'name') {
  if (!record) return ''
  return language() === 'en' ? record[`${field}_en`] || record[`${field}_zh`] : record[`${field}_zh`] || record[`${field}_en`]
}
