// An ApiError in the resident's words: the code's own message where we have one, else the status's, plus the
// wait from Retry-After for a 429. Never the server's English `message` (it is for developers).
import { i18n } from '../i18n/index.js'

export function errorMessage(error) {
  const { t, te } = i18n.global
  if (!error) return ''
  if (error.offline) return t('common.errors.offline')
  let text
  if (error.code && te(`common.errors.code.${error.code}`)) text = t(`common.errors.code.${error.code}`)
  else if (error.status && te(`common.errors.status.${error.status}`)) text = t(`common.errors.status.${error.status}`)
  else text = t('common.errors.code.http_error')
  if (error.retryAfter) text += ' ' + t('common.errors.retryAfter', { seconds: error.retryAfter })
  return text
}
