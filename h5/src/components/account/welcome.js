// "Skip for now" on the first-run page holds for this visit (sessionStorage), so home does not send the
// resident straight back; the next visit asks again until a name and a district are saved.
import { needsWelcome } from '../../stores/me.js'

const KEY = 'carbon.h5.welcome.skipped'

export function skipWelcome() {
  sessionStorage.setItem(KEY, '1')
}

export function welcomeDue(profile) {
  return needsWelcome(profile) && sessionStorage.getItem(KEY) !== '1'
}
