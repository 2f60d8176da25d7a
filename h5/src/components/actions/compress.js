// Photos are shrunk on the phone before upload: at most 2048 px on the long side (what the server keeps
// anyway), re-encoded as JPEG at 0.85. A phone's 12-megapixel photo becomes a few hundred KB, which matters
// on a mobile connection; the server still strips EXIF from whatever arrives.
const LONG_SIDE = 2048

async function decode(file) {
  if (globalThis.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' })
    } catch {
      // fall through to <img> (older browsers, or options not supported)
    }
  }
  const url = URL.createObjectURL(file)
  try {
    const image = new Image()
    image.src = url
    await image.decode()
    return image
  } finally {
    URL.revokeObjectURL(url)
  }
}

export async function compressPhoto(file) {
  const image = await decode(file)
  const width = image.width
  const height = image.height
  const scale = Math.min(1, LONG_SIDE / Math.max(width, height))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(width * scale))
  canvas.height = Math.max(1, Math.round(height * scale))
  canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height)
  image.close?.()
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85))
  return blob || file
}
