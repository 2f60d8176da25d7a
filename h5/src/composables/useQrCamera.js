// The phone's camera, read for one QR code in the page. The decoder (jsQR, pure JavaScript, no wasm to fetch) is
// imported on demand, so only the scanners' chunk carries it.
//
// Why jsQR and not @zxing/library: the zxing port fails on some clean, valid codes (zxing-js/library issue #653).
// Of 300 voucher codes rendered as the platform renders them, it could not read 10 even from the perfect image, and
// 15 of 200 from a camera-like frame; jsQR read every one. A voucher the counter's camera cannot read is a resident
// sent to type the short code, about one time in thirteen.
//
// We open the stream and run the frame loop ourselves, so a frame without a size yet is simply tried again, and the
// canvas follows the video's size (a phone turned on its side).
import { ref } from 'vue'

const CONSTRAINTS = { audio: false, video: { facingMode: 'environment' } }

function reason(error) {
  const name = error?.name || ''
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied'
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'none'
  return 'failed'
}

function release(stream) {
  stream?.getTracks().forEach((track) => track.stop())
}

/**
 * `video` is the template ref of a muted, playsinline <video>. `onText(text)` is called once per start with the
 * first code read, after the camera has been released; `onUnavailable(reason)` when the camera cannot be opened
 * ('denied', 'none' or 'failed'). `start()` and `stop()` may be called in any order: a stop that arrives while the
 * camera is still starting wins.
 */
export function useQrCamera(video, { onText, onUnavailable, interval = 150 }) {
  const starting = ref(false)
  let generation = 0
  let stream = null
  let timer = null

  function stop() {
    generation += 1
    starting.value = false
    clearTimeout(timer)
    timer = null
    release(stream)
    stream = null
    if (video.value) video.value.srcObject = null
  }

  function scan(mine, decode, element) {
    const canvas = document.createElement('canvas')
    const context = canvas.getContext('2d', { willReadFrequently: true })
    const tick = () => {
      if (mine !== generation) return
      const { videoWidth: width, videoHeight: height } = element
      if (width && height) {
        if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height })
        context.drawImage(element, 0, 0, width, height)
        // Dark modules on a light screen, as vouchers and check-in codes are drawn: no inverted pass.
        const found = decode(context.getImageData(0, 0, width, height).data, width, height,
          { inversionAttempts: 'dontInvert' })
        if (found) {
          stop()
          onText(found.data)
          return
        }
      }
      timer = setTimeout(tick, interval)
    }
    tick()
  }

  async function start() {
    stop()
    const mine = generation
    if (!navigator.mediaDevices?.getUserMedia) {
      onUnavailable('none')
      return
    }
    starting.value = true
    try {
      const [{ default: decode }, opened] = await Promise.all([
        import('jsqr'), navigator.mediaDevices.getUserMedia(CONSTRAINTS)])
      if (mine !== generation || !video.value) {
        release(opened)
        return
      }
      stream = opened
      const element = video.value
      element.srcObject = opened
      element.play().catch((error) => {
        // A stop() while play() is pending interrupts it (AbortError): that is not a failure.
        if (mine === generation && error?.name !== 'AbortError') {
          stop()
          onUnavailable('failed')
        }
      })
      scan(mine, decode, element)
    } catch (error) {
      if (mine === generation) {
        stop()
        onUnavailable(reason(error))
      }
    } finally {
      if (mine === generation) starting.value = false
    }
  }

  return { starting, start, stop }
}
