// The public catalogues the account pages name things from: scenarios (GET /scenarios) and districts
// (GET /districts). Each is fetched once per visit and shared; a failed fetch is retried on the next use.
import { shallowRef } from 'vue'
import { publicApi } from '../../api/client.js'
import { localName } from '../../i18n/format.js'

const scenarios = shallowRef(null)
let scenariosLoading = null

export function loadScenarios() {
  scenariosLoading ??= publicApi('/scenarios')
    .then((body) => {
      scenarios.value = Object.fromEntries((body.scenarios || []).map((s) => [s.id, s]))
      return scenarios.value
    })
    .catch((error) => {
      scenariosLoading = null
      throw error
    })
  return scenariosLoading
}

/** A scenario's name in the resident's language; its id until the catalogue has loaded (or if it is retired). */
export function scenarioName(id, fallback = '') {
  if (!id) return fallback
  const record = scenarios.value?.[id]
  return record ? localName(record) : id
}

export function loadDistricts() {
  return publicApi('/districts').then((body) => body.districts || [])
}
