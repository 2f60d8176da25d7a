// What a voucher is now, as the resident sees it: an issued voucher past its expiry is expired even before the
// nightly sweep marks it so.
export function shownStatus(voucher, now = Date.now()) {
  if (!voucher) return null
  if (voucher.status === 'issued' && new Date(voucher.expires_at).getTime() <= now) return 'expired'
  return voucher.status
}

/** Whole Beijing days from today until the expiry day (0: it expires today). */
export function daysLeft(voucher, now = Date.now()) {
  const day = (ms) => Math.floor((ms + 8 * 3_600_000) / 86_400_000) // Beijing is UTC+8 all year
  return day(new Date(voucher.expires_at).getTime()) - day(now)
}
