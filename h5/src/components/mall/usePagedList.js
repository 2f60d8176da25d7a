// An infinite list over one of the API's paginated endpoints (rewards, vouchers): the next page when the list
// scrolls to its end, a restart when the filters change. The first page's failure is the page's error (LoadState
// with a retry); a later page's failure is the list's own "tap to retry".
import { ref, shallowRef } from 'vue'

export function usePagedList(fetchPage, { pageSize = 20 } = {}) {
  const items = shallowRef([])
  const loading = ref(false) // Vant List's v-model:loading
  const failed = ref(false) // Vant List's v-model:error (a later page)
  const finished = ref(false)
  const firstError = shallowRef(null)
  const started = ref(false) // the first page has arrived
  let page = 0
  let generation = 0

  async function more() {
    const mine = generation
    const next = page + 1
    loading.value = true
    try {
      const answer = await fetchPage({ page: next, page_size: pageSize })
      if (mine !== generation) return
      const got = Array.isArray(answer) ? answer : answer.items
      items.value = [...items.value, ...got]
      page = next
      finished.value = Array.isArray(answer) ? got.length < pageSize : !answer.pagination?.next_page
      firstError.value = null
      failed.value = false
      started.value = true
    } catch (error) {
      if (mine !== generation) return
      if (next === 1) firstError.value = error
      else failed.value = true
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  function restart() {
    generation++
    page = 0
    items.value = []
    finished.value = false
    failed.value = false
    firstError.value = null
    started.value = false
    loading.value = false
    return more()
  }

  return { items, loading, failed, finished, firstError, started, more, restart }
}

/** A query string from the non-empty values. */
export function query(values) {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== '' && value !== false) params.set(name, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}
