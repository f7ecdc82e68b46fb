// The field app's shared state: the sync engine of the signed-in user, whether there is a network,
// what the outbox holds, and the one way every page syncs (pull on open, on the button, after recording).
import { reactive, ref } from 'vue'
import { problemText } from '@shared/problem'
import { closeDatabase, getMeta, setMeta } from './db'
import { api } from './session'
import { session, setSession } from './session'
import { SyncEngine } from './sync'
import { AuthRequired, HttpProblem, RetryLater, Unreachable } from './transport'

export const online = ref(navigator.onLine)

/** Bumped whenever the local state changed: views watch it and read again. */
export const revision = ref(0)
export const status = reactive({ syncing: false, message: '', error: false, pulledAt: '' as string | null,
  counts: { queued: 0, inFlight: 0, applied: 0, conflict: 0, rejected: 0, photosPending: 0, photosFailed: 0 } })

let engine: SyncEngine | null = null

window.addEventListener('online', () => { online.value = true; void syncNow() })
window.addEventListener('offline', () => {
  online.value = false
  status.message = ''
})

export function sync(): SyncEngine {
  if (!session.value) throw new Error('尚未登录')
  if (engine && engine.userId !== session.value.user.id) {
    // Another person signed in on this browser: their own database, never the previous one's.
    engine = null
    closeDatabase()
  }
  if (!engine) {
    const userId = session.value.user.id
    engine = new SyncEngine(userId, () => session.value?.token)
    engine.onChange = () => { revision.value++; void refreshCounts() }
    void refreshCounts()
  }
  return engine
}

export async function refreshCounts(): Promise<void> {
  if (!engine) return
  status.counts = await engine.counts()
  status.pulledAt = await getMeta<string>(await engine.db(), 'pulled_at')
}

let running: Promise<void> | null = null

/** Push, upload photos, pull. Without a network it says so and keeps everything queued. */
export function syncNow(options: { pull?: boolean } = {}): Promise<void> {
  if (!session.value) return Promise.resolve()
  if (running) return running
  running = (async () => {
    const sync_ = sync()
    status.syncing = true
    status.error = false
    status.message = '正在同步…'
    try {
      const pushed = await sync_.push()
      const photos = await sync_.uploadPhotos()
      if (options.pull !== false) {
        await sync_.pull()
        await refreshPeople()
      }
      const parts = []
      if (pushed.applied.length) parts.push(`已上传 ${pushed.applied.length} 条`)
      if (photos.uploaded.length) parts.push(`照片 ${photos.uploaded.length} 张`)
      if (pushed.conflicts.length) parts.push(`${pushed.conflicts.length} 条冲突待处理`)
      if (pushed.rejected.length) parts.push(`${pushed.rejected.length} 条被退回`)
      status.message = parts.length ? parts.join('，') : '已是最新'
      status.error = pushed.conflicts.length + pushed.rejected.length > 0
    } catch (err) {
      status.error = true
      if (err instanceof Unreachable) status.message = '无信号：记录已保存在手机上，有信号时自动上传'
      else if (err instanceof RetryLater) status.message = '服务器繁忙：稍后自动重试，记录不会丢失'
      else if (err instanceof AuthRequired) {
        status.message = `请重新登录：${problemText(err.problem)}（未上传的记录仍在手机上）`
        const s = session.value
        if (s) setSession({ ...s, token: '' })
      } else if (err instanceof HttpProblem) status.message = problemText(err.problem)
      else status.message = `同步出错：${(err as Error).message}`
    } finally {
      status.syncing = false
      running = null
      revision.value++
      await refreshCounts()
    }
  })()
  return running
}

/** The directory of inspectors (同行执法人员 of an inspection), kept for offline use. */
async function refreshPeople(): Promise<void> {
  if (!session.value?.user.roles.includes('inspector')) return
  const { data } = await api.GET('/api/v1/people', { params: { query: { role: 'inspector', per_page: 500 } } })
  if (data?.items) await setMeta(await sync().db(), 'people', data.items)
}

export function signOut(): void {
  engine = null
  closeDatabase()
  setSession(null)
}

// Try again every minute while there is something to send (a phone regains signal without an event).
setInterval(() => {
  if (session.value?.token && online.value && (status.counts.queued || status.counts.photosPending) && !status.syncing)
    void syncNow({ pull: false })
}, 60_000)
