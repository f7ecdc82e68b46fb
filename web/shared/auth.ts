// The signed-in session of one web app (token, user, when it expires), kept in localStorage under the
// app's own key, and the device id: made once per browser and never changed, so a resent batch is
// always "the same device" (SYNC_PROTOCOL.md §1–2).
import { uuid4 } from './ids'

export interface SessionUser { id: string; name: string; roles: string[]; region_code?: string | null; username?: string }
export interface Session { token: string; expires_at?: string | null; user: SessionUser; device_id: string }

const DEVICE_KEY = 'anxun.device_id'

export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY)
  if (!id) {
    id = `anxun-web-${uuid4()}`
    localStorage.setItem(DEVICE_KEY, id)
  }
  return id
}

export function loadSession(app: string): Session | null {
  try {
    const raw = localStorage.getItem(`anxun.${app}.session`)
    return raw ? (JSON.parse(raw) as Session) : null
  } catch {
    return null
  }
}

export function saveSession(app: string, session: Session | null): void {
  if (session) localStorage.setItem(`anxun.${app}.session`, JSON.stringify(session))
  else localStorage.removeItem(`anxun.${app}.session`)
}
