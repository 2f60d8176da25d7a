// The scenario catalogue (GET /scenarios, public; the browser revalidates it with its ETag), loaded once per
// visit and shared by the report, actions and receipt pages; plus the words that describe a scenario.
import { shallowRef } from 'vue'
import { publicApi } from '../../api/client.js'
import { i18n } from '../../i18n/index.js'
import { grams, localName } from '../../i18n/format.js'

export const catalogue = shallowRef(null)
let loading = null

export function loadCatalogue() {
  if (catalogue.value) return Promise.resolve(catalogue.value)
  loading ??= publicApi('/scenarios')
    .then((body) => {
      catalogue.value = body
      return body
    })
    .finally(() => {
      loading = null
    })
  return loading
}

export function scenarioById(id) {
  return catalogue.value?.scenarios?.find((s) => s.id === id) || null
}

/** Scenarios a resident can report in this client. */
export function selfReportable(scenario) {
  return Boolean(scenario.self_report) && (scenario.account_types || []).includes('resident')
}

function tr(key, fallbackKey, params) {
  const { t, te } = i18n.global
  return te(key) ? t(key, params) : t(fallbackKey, params)
}

/** A scenario's name in the reader's language; the generic word when the catalogue is not there. */
export function scenarioName(id, receiptNames = null) {
  const scenario = scenarioById(id)
  if (scenario) return localName(scenario)
  if (receiptNames?.zh || receiptNames?.en) {
    return i18n.global.locale.value === 'en' ? receiptNames.en || receiptNames.zh : receiptNames.zh || receiptNames.en
  }
  return i18n.global.t('actions.list.unknownScenario')
}

export function scenarioDescription(scenario) {
  return localName(scenario, 'description')
}

/** One declared cap in words: "每天最多 4 次". */
export function limitText(limit) {
  const n = limit.unit === 'grams' ? grams(limit.limit) : limit.limit
  let text = tr(`actions.limit.${limit.unit}.${limit.per}`, 'actions.limit.other', { n })
  if (limit.scope === 'household') text += i18n.global.t('actions.limit.household')
  return text
}

export function evidenceText(evidence) {
  const kind = evidence?.kind || 'none'
  return tr(`actions.evidenceKind.${kind}`, 'actions.evidenceKind.photo', {})
}

export function photosNeeded(scenario) {
  if (typeof scenario?.app_trust?.photos === 'number') return scenario.app_trust.photos
  const evidence = scenario?.evidence
  if (!evidence) return 0
  if (typeof evidence.photos === 'number') return evidence.photos
  return { none: 0, photo: 1, photo_and_certificate: 2 }[evidence.kind] ?? 0
}

/** An input's label: the rulebook's own, else our word for its name, else the generic word. */
export function inputLabel(input) {
  const own = input && localName(input, 'label')
  if (own) return own
  return tr(`actions.input.${input?.name ?? input}`, 'actions.input.other', {})
}

export function unitText(unit) {
  if (!unit) return ''
  // Units not in our words are symbols (kWh, km) that read the same in both languages.
  return i18n.global.te(`actions.unit.${unit}`) ? i18n.global.t(`actions.unit.${unit}`) : unit
}

/** A reason code of the rules engine in words. */
export function reasonText(reason) {
  if (!reason) return ''
  return tr(`actions.reason.${reason}`, 'actions.reason.other', {})
}

export function statusText(status) {
  return tr(`actions.status.${status}`, 'actions.status.all', {})
}

export function channelText(channel) {
  if (!channel) return ''
  const head = channel.startsWith('partner:') ? 'partner' : channel
  return tr(`actions.channel.${head}`, 'actions.channel.partner', {})
}

/** What a report in the app needs and when it waits for a reviewer (the catalogue's app_trust), in lines. */
export function trustLines(scenario) {
  const trust = scenario?.app_trust
  if (!trust) return []
  const { t } = i18n.global
  const lines = []
  if (trust.photos > 0) lines.push(t('actions.trust.photos', { n: trust.photos }))
  if (trust.review === 'always') lines.push(t('actions.trust.always'))
  if (trust.count_per_day) lines.push(t('actions.trust.count', { n: trust.count_per_day }, trust.count_per_day))
  for (const bound of overBoundsOf(scenario, {}, true)) lines.push(t('actions.trust.bound', bound))
  if (!lines.length) lines.push(t('actions.trust.asReported'))
  return lines
}

/** The input bounds of the app's trust rule that ``values`` go beyond (all of them with ``every``), in words. */
export function overBoundsOf(scenario, values, every = false) {
  const bounds = scenario?.app_trust?.bounds || []
  const inputs = Object.fromEntries((scenario?.inputs || []).map((input) => [input.name, input]))
  return bounds
    .filter((bound) => every || Number(String(values[bound.input] ?? '').trim() || 0) > bound.max)
    .map((bound) => ({ label: inputLabel(inputs[bound.input] || bound.input), max: bound.max,
      unit: unitText(inputs[bound.input]?.unit) }))
}
