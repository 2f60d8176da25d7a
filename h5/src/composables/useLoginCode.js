// What the residents' and the staff's login pages share: the rule for a mainland mobile number (the server's
// own, carbon_platform/services/identity.py) and the resend countdown after a code is sent or a 429 says wait.
import { onBeforeUnmount, ref } from 'vue'

const MAINLAND_MOBILE = /^1[3-9]\d{9}$/

export function isMainlandMobile(phone) {
  return MAINLAND_MOBILE.test(String(phone).trim())
}

/** `countdown` seconds until a new code may be asked for; `start(seconds)` (re)starts it. */
export function useResendCountdown() {
  const countdown = ref(0)
  let timer = null
  function start(seconds) {
    clearInterval(timer)
    countdown.value = seconds
    timer = setInterval(() => {
      countdown.value -= 1
      if (countdown.value <= 0) clearInterval(timer)
    }, 1000)
  }
  onBeforeUnmount(() => clearInterval(timer))
  return { countdown, start }
}
