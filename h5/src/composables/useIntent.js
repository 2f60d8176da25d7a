// One user intent (redeem this reward, report this action, cancel this voucher) keeps one Idempotency-Key
// until it succeeds or the user changes what they asked for, so a retried tap never does it twice.
import { idempotencyKey } from '../api/client.js'

export function useIntent() {
  let key = null
  return {
    /** The key for the intent in progress (made on first use). */
    key() {
      key ??= idempotencyKey()
      return key
    },
    /** The intent succeeded or changed: the next tap is a new intent. */
    reset() {
      key = null
    },
  }
}
