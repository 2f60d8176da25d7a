// Face values are integer fen in the API; the till shows yuan in the cashier's language (¥15.00 / CN¥15.00).
import { number } from '../../i18n/format.js'

export function yuan(fen) {
  if (fen === null || fen === undefined) return '—'
  return number(fen / 100, { style: 'currency', currency: 'CNY' })
}
