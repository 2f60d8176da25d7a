// The signed-in resident's profile and balances (GET /me), shared by the pages that show them.
import { shallowRef } from 'vue'
import { resident } from '../api/client.js'

export const me = shallowRef(null)

export async function loadMe() {
  me.value = await resident.call('/me')
  return me.value
}

/** The first-run page is due until the resident has a display name and a district. */
export function needsWelcome(profile = me.value) {
  return Boolean(profile) && (!profile.display_name || !profile.district)
}

resident.onLogout(() => {
  me.value = null
})
