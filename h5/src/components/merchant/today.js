// Today at this merchant: `GET /merchant/today` (its consumptions, count and face-value total, and the
// settlement period's totals by funder). A server without that endpoint yet (404) gets the same figures built
// from `GET /merchant/consumptions` over today and the current Beijing month, the settlement period then.
import { ApiError, merchant } from '../../api/client.js'
import { beijingToday } from '../../i18n/format.js'

function nextDay(day) {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
}

function totals(rows) {
  const byFunder = new Map()
  for (const row of rows) {
    const line = byFunder.get(row.funder) || { funder: row.funder, count: 0, face_value_total: 0 }
    line.count += 1
    line.face_value_total += row.face_value
    byFunder.set(row.funder, line)
  }
  return {
    count: rows.length,
    face_value_total: rows.reduce((sum, row) => sum + row.face_value, 0),
    by_funder: [...byFunder.values()],
  }
}

async function fromConsumptions() {
  const day = beijingToday()
  const monthStart = `${day.slice(0, 8)}01`
  const [y, m] = day.split('-').map(Number)
  const monthEnd = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10)
  const bounds = (start, end) => `start=${encodeURIComponent(`${start}T00:00:00+08:00`)}`
    + `&end=${encodeURIComponent(`${end}T00:00:00+08:00`)}`
  const [today, period] = (await Promise.all([
    merchant.call(`/merchant/consumptions?${bounds(day, nextDay(day))}`),
    merchant.call(`/merchant/consumptions?${bounds(monthStart, monthEnd)}`),
  ])).map((rows) => rows.map((row) => ({ ...row, face_value: row.face_value_fen })))
  const { count, face_value_total: total } = totals(today)
  return {
    date: day, count, face_value_total: total,
    consumptions: [...today].sort((a, b) => (a.consumed_at < b.consumed_at ? 1 : -1)),
    settlement: { period_start: monthStart, period_end: monthEnd, ...totals(period) },
  }
}

export async function loadToday() {
  try {
    return await merchant.call('/merchant/today')
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') return fromConsumptions()
    throw error
  }
}
