// The field app's session and API client: one per page, the token from the stored session.
import { ref } from 'vue'
import { makeClient } from '@shared/api'
import { loadSession, saveSession, type Session } from '@shared/auth'

export const APP = 'app'
export const session = ref<Session | null>(loadSession(APP))
export const api = makeClient(() => session.value?.token)

export function setSession(value: Session | null): void {
  session.value = value
  saveSession(APP, value)
}
