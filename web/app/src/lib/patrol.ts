// The running patrol (巡查): kept as a draft until finished, so a reload or a killed app loses nothing —
// start, the GPS track while the page is open, visits at enterprises, finish (then one `patrol create`).
import { reactive } from 'vue'
import { uuid4 } from '@shared/ids'
import { useDraft, type DraftHandle } from './drafts'
import { nowIso } from './sync'
import { session } from './session'
import { sync } from './store'

export interface PatrolDraft {
  id: string; grid_id: string; started_at: string
  coordinates: [number, number][]; times: string[]
  visits: { enterprise_id: string; at: string; location: any; outcome: string; note: string; photos: string[] }[]
  notes: string
}

const blank = (): PatrolDraft => ({ id: '', grid_id: '', started_at: '', coordinates: [], times: [], visits: [], notes: '' })

let handle: DraftHandle<PatrolDraft> | null = null
let handleUser: string | null = null

/** The signed-in person's running patrol (a new person on this browser has their own). */
export function patrolDraft(): DraftHandle<PatrolDraft> {
  const user = session.value?.user.id ?? null
  if (!handle || handleUser !== user) {
    handle = useDraft<PatrolDraft>('patrol', blank, true)
    handleUser = user
  }
  return handle
}

export function resetPatrolDraft(): void { handle = null }

let watchId: number | null = null
export const gps = reactive({ watching: false, error: '', accuracy: null as number | null, last: null as null | { lon: number; lat: number } })

/** Records the track while the page is open: a point when the phone moved 10 m or 15 s passed. */
export function startTracking(): void {
  if (watchId != null || !('geolocation' in navigator)) return
  const patrol = patrolDraft().fields as PatrolDraft
  gps.watching = true
  watchId = navigator.geolocation.watchPosition((position) => {
    const { longitude: lon, latitude: lat, accuracy } = position.coords
    gps.error = ''
    gps.accuracy = accuracy
    gps.last = { lon, lat }
    if (!patrol.started_at) return
    const last = patrol.coordinates[patrol.coordinates.length - 1]
    const lastTime = patrol.times[patrol.times.length - 1]
    const moved = !last || distanceMeters(last[0], last[1], lon, lat) >= 10
    const waited = !lastTime || Date.now() - Date.parse(lastTime) >= 15_000
    if (moved || waited) {
      patrol.coordinates.push([Number(lon.toFixed(6)), Number(lat.toFixed(6))])
      patrol.times.push(nowIso())
    }
  }, (err) => { gps.error = err.code === 1 ? '未允许使用位置：巡查轨迹无法记录' : '暂时无法定位' },
  { enableHighAccuracy: true, maximumAge: 5000, timeout: 20_000 })
}

export function stopTracking(): void {
  if (watchId != null) navigator.geolocation.clearWatch(watchId)
  watchId = null
  gps.watching = false
}

export async function startPatrol(gridId: string): Promise<void> {
  const patrol = patrolDraft()
  await patrol.ready
  Object.assign(patrol.fields, { ...blank(), id: uuid4(), grid_id: gridId, started_at: nowIso() })
  startTracking()
}

/** Queues the patrol as one change and forgets the draft. */
export async function finishPatrol(): Promise<void> {
  const patrol = patrolDraft()
  const p = patrol.fields as PatrolDraft
  stopTracking()
  const data: any = { grid_id: p.grid_id, started_at: p.started_at, ended_at: nowIso(), notes: p.notes,
    visits: p.visits.map((v) => ({ ...v, location: v.location ?? undefined })) }
  if (p.coordinates.length >= 2) data.track = { crs: 'wgs84', coordinates: p.coordinates, times: p.times }
  await sync().record({ entity: 'patrol', op: 'create', id: p.id, data, recorded_at: nowIso() },
    `巡查：${p.visits.length} 家企业，轨迹 ${p.coordinates.length} 点`, 'patrol')
  await patrol.clear()
}

/** Where the phone is now (one fix), or null when it cannot tell. */
export function currentLocation(timeoutMs = 8000): Promise<{ lon: number; lat: number; crs: 'wgs84'; accuracy_m?: number } | null> {
  if (!('geolocation' in navigator)) return Promise.resolve(null)
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: Number(p.coords.longitude.toFixed(6)), lat: Number(p.coords.latitude.toFixed(6)), crs: 'wgs84',
                       accuracy_m: Math.round(p.coords.accuracy) }),
      () => resolve(gps.last ? { ...gps.last, crs: 'wgs84' } : null), { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 10_000 })
  })
}

export function distanceMeters(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLon = (lon2 - lon1) * rad
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6_371_000 * Math.asin(Math.sqrt(a))
}
