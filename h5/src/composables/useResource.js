// A page's data: loading, the error in words, and a retry. A failed request never leaves a blank page:
// <LoadState> shows the error with a retry button.
import { ref, shallowRef } from 'vue'

export function useResource(loader, { immediate = true } = {}) {
  const data = shallowRef(null)
  const error = shallowRef(null)
  const loading = ref(false)
  let generation = 0

  async function load(...args) {
    const mine = ++generation
    loading.value = true
    error.value = null
    try {
      const value = await loader(...args)
      if (mine === generation) data.value = value
      return value
    } catch (caught) {
      if (mine === generation) error.value = caught
      return undefined
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  if (immediate) load()
  return { data, error, loading, load, reload: load }
}
