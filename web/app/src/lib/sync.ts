// The phone's side of SYNC_PROTOCOL.md, rule for rule as sync/client/client.py keeps it:
// - record():  queue a change locally (id, recorded_at and a transition's base_version filled in)
// - push():    batches within the advertised limits; a batch's id and members are stored before it is
//              first sent and re-sent unchanged until an answer is stored (exactly once); retryable
//              results stay queued; a conflict is rebased on `current` when its action still makes
//              sense, else kept for the person with the server's record; rejections kept with their fields
// - uploadPhotos(): HEAD says what the server holds, PUT the rest in parts with Content-Range (resumable)
// - pull():    follows the cursor to the end; a page and the cursor after it are stored together
import { uuid4, sha256Hex, uuid5 } from '@shared/ids'
import { database, getMeta, setMeta, type Db, type LocalRecord, type Photo, type QueuedChange } from './db'
import { after, failedItems, OPS, rebase, ruleFor } from './rules'
import { expect, HttpProblem, Transient, Transport, type SyncError } from './transport'

export const API = '/api/v1'
const DEFAULT_LIMITS = { max_batch_changes: 1000, max_batch_bytes: 8 * 1024 * 1024, max_photo_bytes: 20 * 1024 * 1024,
                         photo_chunk_bytes: 1024 * 1024, pull_limit_default: 500, pull_limit_max: 2000 }
type Limits = typeof DEFAULT_LIMITS
const CONFIG_MAX_AGE_MS = 3600_000
const ENVELOPE_BYTES = 256
// A server applies ≈ 50–90 changes a second: batches of 100 keep each answer within a few seconds.
export const BATCH_CHANGES = 100
const MAX_REBASES_PER_PUSH = 3
const RANGE = /^\s*bytes=0-(\d+)\s*$/
const APPLIED_KEPT = 200

/** The phone's clock as RFC 3339 with its own offset (2026-11-22T09:30:00+08:00). */
export function nowIso(date = new Date()): string {
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const abs = Math.abs(offset)
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

export interface PushReport {
  batches: string[]; applied: QueuedChange[]; rebased: QueuedChange[]; conflicts: QueuedChange[]
  rejected: QueuedChange[]; retryable: QueuedChange[]; missing_photos: string[]; photos?: any
}

export class SyncEngine {
  transport: Transport
  chunkBytes: number | null = null
  private dbp: Promise<Db>
  /** Called after anything in the state changed (the views re-read what they show). */
  onChange: () => void = () => {}

  constructor(readonly userId: string, token: () => string | null | undefined) {
    this.transport = new Transport({ token })
    this.dbp = database(userId)
  }

  db(): Promise<Db> { return this.dbp }

  // ------------------------------------------------------------------ limits

  async limits(refresh = false, network = true): Promise<Limits> {
    const db = await this.dbp
    let cached = await getMeta<any>(db, 'config')
    const fresh = cached && Date.now() - (cached._fetched ?? 0) < CONFIG_MAX_AGE_MS
    if (network && (refresh || !fresh)) {
      try {
        const config = await expect(await this.transport.request('GET', `${API}/sync/config`), 200)
        config._fetched = Date.now()
        await setMeta(db, 'config', config)
        cached = config
      } catch (err) {
        if (!(err instanceof Error) || err instanceof HttpProblem || (cached == null && refresh)) throw err
      }
    }
    const out = { ...DEFAULT_LIMITS }
    for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) if (cached?.[key] != null) out[key] = cached[key]
    return out
  }

  // ------------------------------------------------------------------ recording (offline)

  /** Queue one change; `label` is what the outbox shows, `form` the form to reopen on a refusal. */
  async record(change: { entity: string; op: 'create' | 'transition'; id?: string; data: any; base_version?: number | null;
                         recorded_at?: string }, label: string, form: string | null = null): Promise<QueuedChange> {
    const { entity, op } = change
    // A plain copy: what pages pass may hold Vue proxies, which IndexedDB cannot store.
    const data = JSON.parse(JSON.stringify(change.data))
    if (!OPS.has(`${entity}:${op}`)) throw new Error(`不能推送 ${entity} ${op}`)
    if (op === 'transition' && !ruleFor(entity, data?.action)) throw new Error(`${entity} 没有 ${data?.action} 操作`)
    const id = change.id ?? (op === 'create' ? uuid4() : null)
    if (!id) throw new Error('流转必须给出记录 id')
    const db = await this.dbp
    let baseVersion = change.base_version ?? null
    if (op === 'transition' && baseVersion == null) baseVersion = await this.nextBaseVersion(entity, id)
    const seen = op === 'transition' ? (await db.get('records', [entity, id]))?.data ?? null : null
    const queued: QueuedChange = { entity, op, id, base_version: op === 'transition' ? baseVersion : null,
      recorded_at: change.recorded_at ?? nowIso(), data, state: 'queued', batch_id: null, attempts: 0, rebased: 0,
      result: null, seen, label, form }
    queued.seq = await db.add('changes', queued)
    this.onChange()
    return queued
  }

  /** The version the record will have when this transition arrives: after the queued transitions of it,
   *  or as the local copy has it, or 1 for a hazard created (or raised by an inspection) in the queue. */
  async nextBaseVersion(entity: string, id: string): Promise<number> {
    const db = await this.dbp
    const mine = (await db.getAllFromIndex('changes', 'record', [entity, id]))
      .filter((c) => c.state === 'queued' && c.op === 'transition')
    const last = mine[mine.length - 1]
    if (last?.base_version != null) return last.base_version + 1
    const local = await db.get('records', [entity, id])
    if (local?.version != null) return local.version
    if (entity === 'hazard') {
      for (const c of await db.getAllFromIndex('changes', 'state', 'queued')) {
        if (c.entity === 'hazard' && c.op === 'create' && c.id === id) return 1
        if (c.entity === 'inspection') {
          for (const item of failedItems(c.data)) if ((await uuid5(c.id, item)) === id) return 1
        }
      }
    }
    throw new Error('不知道此记录的版本：请先同步')
  }

  async addPhoto(blob: Blob, name = 'photo'): Promise<string> {
    const bytes = new Uint8Array(await blob.arrayBuffer())
    const limit = (await this.limits(false, false)).max_photo_bytes
    if (bytes.length === 0) throw new Error('照片是空文件')
    if (bytes.length > limit) throw new Error(`照片有 ${(bytes.length / 1048576).toFixed(1)} MB，超过服务器上限 ${(limit / 1048576).toFixed(0)} MB`)
    const sha256 = await sha256Hex(bytes)
    const db = await this.dbp
    const existing = await db.get('photos', sha256)
    if (!existing) {
      // The original bytes, EXIF and all: the evidence is the file as the camera wrote it.
      const photo: Photo = { sha256, blob: new Blob([bytes], { type: blob.type || sniffMime(bytes) }), size: bytes.length,
        mime: blob.type || sniffMime(bytes), name, state: 'pending', sent_bytes: 0, error: null, created_at: nowIso() }
      await db.put('photos', photo)
      this.onChange()
    }
    return sha256
  }

  async discard(seq: number): Promise<void> {
    const db = await this.dbp
    const change = await db.get('changes', seq)
    if (!change) return
    if (change.batch_id && change.state === 'queued') throw new Error('此变更在已发出的批次里，须等批次有了答复')
    await db.delete('changes', seq)
    this.onChange()
  }

  /** A conflict or rejection the person fixed or wants to send again: queued again, with new data or base version. */
  async requeue(seq: number, patch: Partial<QueuedChange> = {}): Promise<void> {
    const db = await this.dbp
    const change = await db.get('changes', seq)
    if (!change) return
    await db.put('changes', { ...change, ...patch, state: 'queued', batch_id: null, result: null })
    this.onChange()
  }

  // ------------------------------------------------------------------ push

  async pendingBatch(): Promise<string | null> {
    const db = await this.dbp
    for (const batch of await db.getAll('batches')) if (!batch.answer) return batch.batch_id
    return null
  }

  async push(): Promise<PushReport> {
    let limits = await this.limits()
    let maxChanges = Math.min(limits.max_batch_changes, BATCH_CHANGES)
    let maxBytes = limits.max_batch_bytes
    const report: PushReport = { batches: [], applied: [], rebased: [], conflicts: [], rejected: [], retryable: [], missing_photos: [] }
    const heldBack = new Set<number>()
    const rebases = new Map<number, number>()
    const db = await this.dbp
    for (;;) {
      let batchId = await this.pendingBatch()
      if (!batchId) {
        const queue = (await db.getAllFromIndex('changes', 'state', 'queued')).filter((c) => !heldBack.has(c.seq!))
        queue.sort((a, b) => a.seq! - b.seq!)
        if (!queue.length) break
        const chosen = await this.fit(queue, maxChanges, maxBytes, report)
        if (!chosen.length) continue
        batchId = uuid4()
        // Stored before it is first sent: a retry after a lost answer or a closed page sends exactly this.
        const tx = db.transaction(['batches', 'changes'], 'readwrite')
        await tx.objectStore('batches').put({ batch_id: batchId, seqs: chosen.map((c) => c.seq!), created_at: nowIso(), sends: 0, answer: null })
        for (const c of chosen) await tx.objectStore('changes').put({ ...c, batch_id: batchId })
        await tx.done
        this.onChange()
      }
      const batch = (await db.get('batches', batchId))!
      const members = (await Promise.all(batch.seqs.map((seq) => db.get('changes', seq)))).filter(
        (c): c is QueuedChange => !!c && c.batch_id === batchId)
      if (!members.length) {
        await db.put('batches', { ...batch, answer: { results: [] } })
        continue
      }
      let answer: any
      try {
        answer = await this.sendBatch(batchId, members)
      } catch (err) {
        if (err instanceof HttpProblem && err.status === 413) {
          // Nothing of it was stored: smaller batches.
          await this.closeBatch(batchId, members, null)
          limits = await this.limits(true)
          maxBytes = limits.max_batch_bytes
          maxChanges = Math.min(limits.max_batch_changes, BATCH_CHANGES, Math.max(1, Math.floor(members.length / 2)))
          if (members.length === 1) await this.rejectLocally(members[0], 'sync.batch_too_large', '服务器拒收此条变更（过大）', report)
          continue
        }
        throw err
      }
      report.batches.push(batchId)
      const outcome = await this.applyAnswer(batchId, members, answer)
      report.applied.push(...outcome.applied)
      report.rebased.push(...outcome.rebased)
      report.conflicts.push(...outcome.conflicts)
      report.rejected.push(...outcome.rejected)
      report.retryable.push(...outcome.retryable)
      report.missing_photos = answer.missing_photos ?? []
      for (const c of outcome.retryable) heldBack.add(c.seq!)
      for (const c of outcome.rebased) {
        const n = (rebases.get(c.seq!) ?? 0) + 1
        rebases.set(c.seq!, n)
        if (n >= MAX_REBASES_PER_PUSH) heldBack.add(c.seq!)
      }
      this.onChange()
    }
    return report
  }

  private wire(c: QueuedChange): any {
    const out: any = { entity: c.entity, op: c.op, id: c.id, recorded_at: c.recorded_at, data: c.data }
    if (c.op === 'transition') out.base_version = c.base_version
    return out
  }

  private async fit(queue: QueuedChange[], maxChanges: number, maxBytes: number, report: PushReport): Promise<QueuedChange[]> {
    const chosen: QueuedChange[] = []
    let size = ENVELOPE_BYTES
    const encoder = new TextEncoder()
    for (const change of queue) {
      const n = encoder.encode(JSON.stringify(this.wire(change))).length + 1
      if (n + ENVELOPE_BYTES > maxBytes) {
        await this.rejectLocally(change, 'sync.batch_too_large', '此条变更超过服务器的批次上限', report)
        continue
      }
      if (chosen.length >= maxChanges || size + n > maxBytes) break
      chosen.push(change)
      size += n
    }
    return chosen
  }

  private async rejectLocally(change: QueuedChange, code: string, message: string, report: PushReport) {
    const db = await this.dbp
    const result = { status: 'rejected', retryable: false, code, errors: [{ code, field: null, message }], local: true }
    const updated = { ...change, state: 'rejected' as const, batch_id: null, result }
    await db.put('changes', updated)
    report.rejected.push(updated)
  }

  private async sendBatch(batchId: string, members: QueuedChange[]): Promise<any> {
    const db = await this.dbp
    const batch = (await db.get('batches', batchId))!
    await db.put('batches', { ...batch, sends: batch.sends + 1 })
    // sent_at is this attempt's clock: the skew is measured against when it was sent.
    const body = { batch_id: batchId, sent_at: nowIso(), changes: members.map((c) => this.wire(c)) }
    const answered = await this.transport.request('POST', `${API}/sync/push`, { json: body, gzip: true })
    const answer = await expect(answered, 200)
    const results = answer?.results
    if (answer?.batch_id !== batchId || !Array.isArray(results) || results.length !== members.length)
      throw new Error(`批次 ${batchId} 的答复与所发不符`)
    members.forEach((c, i) => {
      if (results[i].id !== c.id) throw new Error(`批次 ${batchId} 的结果顺序与变更不符`)
    })
    return answer
  }

  private async closeBatch(batchId: string, members: QueuedChange[], answer: any) {
    const db = await this.dbp
    const tx = db.transaction(['batches', 'changes'], 'readwrite')
    const batch = await tx.objectStore('batches').get(batchId)
    if (answer == null) await tx.objectStore('batches').delete(batchId)
    else if (batch) await tx.objectStore('batches').put({ ...batch, answer })
    for (const c of members) {
      const now = await tx.objectStore('changes').get(c.seq!)
      if (now && now.batch_id === batchId) await tx.objectStore('changes').put({ ...now, batch_id: null })
    }
    await tx.done
  }

  /** The answer applied to the outbox and the local copy, in one IndexedDB transaction. */
  private async applyAnswer(batchId: string, members: QueuedChange[], answer: any) {
    const outcome = { applied: [] as QueuedChange[], rebased: [] as QueuedChange[], conflicts: [] as QueuedChange[],
                      rejected: [] as QueuedChange[], retryable: [] as QueuedChange[] }
    const results: any[] = answer.results
    const db = await this.dbp
    // uuid5 needs an await on crypto.subtle, which would end the transaction: computed before it.
    const derivedIds = new Map<string, Map<string, string>>()
    for (const c of members) if (c.entity === 'inspection') {
      const ids = new Map<string, string>()
      for (const item of failedItems(c.data)) ids.set(await uuid5(c.id, item), item)
      derivedIds.set(c.id, ids)
    }
    const tx = db.transaction(['changes', 'records', 'tombstones', 'batches', 'meta'], 'readwrite')
    const changes = tx.objectStore('changes')
    const conflicts = new Map<string, number>()
    const conflicting = new Set<number>()
    const doneAt = nowIso()
    for (let i = 0; i < members.length; i++) {
      const change = (await changes.get(members[i].seq!)) ?? members[i]
      const result = results[i]
      const status = result.status
      if (status === 'applied' || status === 'duplicate') {
        const done = { ...change, state: 'applied' as const, batch_id: null, result, attempts: change.attempts + 1, done_at: doneAt }
        await changes.put(done)
        await this.learn(tx, change, result, derivedIds.get(change.id))
        outcome.applied.push(done)
      } else if (status === 'conflict' && change.op === 'transition' && result.current) {
        conflicts.set(`${change.entity}|${change.id}`, i)
        conflicting.add(change.seq!)
        await changes.put({ ...change, batch_id: null, attempts: change.attempts + 1, result })
      } else if ((status === 'rejected' || status === 'conflict') && result.retryable) {
        const kept = { ...change, batch_id: null, attempts: change.attempts + 1, result }
        await changes.put(kept)
        outcome.retryable.push(kept)
      } else {
        const state = status === 'conflict' ? 'conflict' as const : 'rejected' as const
        const kept = { ...change, state, batch_id: null, attempts: change.attempts + 1, result }
        await changes.put(kept)
        outcome[state === 'conflict' ? 'conflicts' : 'rejected'].push(kept)
      }
    }
    for (const [key, index] of conflicts) {
      const [entity, id] = key.split('|')
      const conflict = results[index]
      let current = { ...conflict.current }
      current.version ??= conflict.version
      for (let j = index + 1; j < members.length; j++) {
        const c = members[j]
        if (c.entity === entity && c.id === id && c.op === 'transition' && results[j].status === 'applied')
          current = after(entity, current, c.data?.action, results[j].version)
      }
      const copy = await tx.objectStore('records').get([entity, id])
      if (!(await this.putRecord(tx, entity, id, current.version, current, false)) && copy) current = copy.data
      const queued = (await changes.index('record').getAll([entity, id]))
        .filter((c) => c.state === 'queued' && c.op === 'transition').sort((a, b) => a.seq! - b.seq!)
      const { rebased, stuck } = rebase(entity, current, queued.map((c) => ({ seq: c.seq!, action: c.data?.action, seen: c.seen })))
      const bySeq = new Map(queued.map((c) => [c.seq!, c]))
      for (const item of rebased) {
        const change = bySeq.get(item.seq)!
        if (change.base_version === item.base_version) {
          if (conflicting.has(change.seq!)) stuck.push({ seq: change.seq!, reason: '服务器在当前版本上也拒绝了此操作' })
          continue
        }
        const moved = { ...change, base_version: item.base_version, rebased: change.rebased + 1 }
        await changes.put(moved)
        outcome.rebased.push(moved)
      }
      for (const item of stuck) {
        const change = bySeq.get(item.seq)!
        const result = { ...(change.result ?? conflict), reason: item.reason, current }
        const kept = { ...change, state: 'conflict' as const, result }
        await changes.put(kept)
        outcome.conflicts.push(kept)
      }
    }
    const meta = tx.objectStore('meta')
    await meta.put(answer.missing_photos ?? [], 'missing_photos')
    await meta.put(answer.clock_skew_seconds ?? null, 'clock_skew_seconds')
    await meta.put({ batch_id: batchId, server_time: answer.server_time }, 'last_push')
    const batch = await tx.objectStore('batches').get(batchId)
    if (batch) await tx.objectStore('batches').put({ ...batch, answer: { results: results.map((r) => r.status) } })
    await tx.done
    await this.pruneApplied()
    return outcome
  }

  private async pruneApplied() {
    const db = await this.dbp
    const applied = (await db.getAllFromIndex('changes', 'state', 'applied')).sort((a, b) => a.seq! - b.seq!)
    for (const c of applied.slice(0, Math.max(0, applied.length - APPLIED_KEPT))) await db.delete('changes', c.seq!)
    const batches = await db.getAll('batches')
    for (const b of batches.filter((b) => b.answer).slice(0, Math.max(0, batches.length - 50))) await db.delete('batches', b.batch_id)
  }

  /** Keep the local copy in step with what the server just accepted (never backwards). */
  private async learn(tx: any, change: QueuedChange, result: any, derived?: Map<string, string>) {
    const version = result.version ?? null
    if (change.op === 'transition') {
      const local = await tx.objectStore('records').get([change.entity, change.id])
      if (local) await this.putRecord(tx, change.entity, change.id, version, after(change.entity, local.data, change.data?.action, version), false)
    } else if (change.entity === 'hazard') {
      await this.putRecord(tx, 'hazard', change.id, version, { ...change.data, id: change.id, status: 'reported', version,
        overdue: false, supervised: false, local: true }, false)
    } else {
      // Inspections and patrols are not pulled: the phone keeps what it sent, to show it.
      await this.putRecord(tx, change.entity, change.id, version, { ...change.data, id: change.id, version }, false)
    }
    for (const d of result.derived ?? []) {
      await this.putRecord(tx, d.entity, d.id, 1, { id: d.id, status: 'reported', version: 1, inspection_id: change.id,
        item_code: derived?.get(d.id) ?? null, enterprise_id: change.data?.enterprise_id, local: true }, false)
    }
  }

  /** Writes a record unless the copy (or a tombstone) holds a newer version; true when written. */
  private async putRecord(tx: any, entity: string, id: string, version: number | null, data: any, pulled: boolean): Promise<boolean> {
    const records = tx.objectStore('records')
    const existing: LocalRecord | undefined = await records.get([entity, id])
    if (existing && existing.version != null && version != null && existing.version > version) return false
    if (!pulled) {
      if (existing && existing.version != null && version != null && existing.version >= version) return false
      const tomb = await tx.objectStore('tombstones').get([entity, id])
      if (tomb && (version == null || (tomb.version != null && tomb.version >= version))) return false
    }
    await records.put({ entity, id, version, data, pulled })
    return true
  }

  // ------------------------------------------------------------------ photos

  async uploadPhotos(): Promise<{ uploaded: string[]; held: string[]; failed: string[] }> {
    const report = { uploaded: [] as string[], held: [] as string[], failed: [] as string[] }
    let chunk = (await this.limits()).photo_chunk_bytes
    if (this.chunkBytes) chunk = Math.min(chunk, this.chunkBytes)
    const db = await this.dbp
    for (const photo of await db.getAllFromIndex('photos', 'state', 'pending')) {
      try {
        const created = await this.uploadPhoto(photo, chunk)
        report[created ? 'uploaded' : 'held'].push(photo.sha256)
      } catch (err) {
        if (err instanceof HttpProblem && err.status !== 401) {
          await db.put('photos', { ...photo, state: 'failed', error: `${err.status} ${err.problem.title ?? err.problem.code ?? ''}` })
          report.failed.push(photo.sha256)
          continue
        }
        throw err
      }
      this.onChange()
    }
    return report
  }

  /** HEAD, then PUT from where the server is, part by part; true when this upload stored it. */
  private async uploadPhoto(photo: Photo, chunk: number): Promise<boolean> {
    const db = await this.dbp
    const path = `${API}/photos/${photo.sha256}`
    let failures = 0
    for (;;) {
      try {
        let offset = await this.photoOffset(path)
        if (offset == null) {
          await db.put('photos', { ...photo, blob: null, state: 'held', sent_bytes: photo.size, error: null })
          return false
        }
        for (;;) {
          const part = photo.blob!.slice(offset, offset + chunk)
          const end = offset + part.size - 1
          const response = await this.transport.send('PUT', path, { body: part, headers: {
            'Content-Type': photo.mime, 'Content-Range': `bytes ${offset}-${end}/${photo.size}` } })
          if (response.status === 200 || response.status === 201) {
            await db.put('photos', { ...photo, blob: null, state: 'held', sent_bytes: photo.size, error: null })
            return response.status === 201
          }
          if (response.status === 308) {
            const received = rangeEnd(response)
            if (received <= offset) throw new Transient(`无进展：服务器只有 ${received} 字节`)
            offset = received
            failures = 0
            photo = { ...photo, sent_bytes: offset }
            await db.put('photos', photo)
            this.onChange()
            continue
          }
          if (response.status === 409) throw new Transient('上传状态已变，重新询问')
          await expect({ response, body: await response.json().catch(() => null) })
        }
      } catch (err) {
        if (!(err instanceof Transient)) throw err
        failures += 1
        if (failures >= this.transport.maxAttempts) throw this.transport.giveUp(err)
        await this.transport.wait(failures - 1, err)
      }
    }
  }

  private async photoOffset(path: string): Promise<number | null> {
    const response = await this.transport.send('HEAD', path)
    if (response.status === 200) return null
    if (response.status === 404) return 0
    if (response.status === 308) return rangeEnd(response)
    await expect({ response, body: null }, 200)
    throw new Error(`HEAD ${path}: ${response.status}`)
  }

  // ------------------------------------------------------------------ pull

  async pull(): Promise<{ pages: number; upserts: number; deletes: number; reset: boolean }> {
    const limits = await this.limits()
    const limit = Math.min(limits.pull_limit_default, limits.pull_limit_max)
    const db = await this.dbp
    const report = { pages: 0, upserts: 0, deletes: 0, reset: false }
    for (;;) {
      const cursor = await getMeta<string>(db, 'cursor')
      const query = new URLSearchParams({ limit: String(limit) })
      if (cursor) query.set('cursor', cursor)
      const page = await expect(await this.transport.request('GET', `${API}/sync/pull?${query}`), 200)
      const tx = db.transaction(['records', 'tombstones', 'meta'], 'readwrite')
      if (page.reset || !cursor) {
        // A snapshot sends no tombstones for what the phone may hold: start the copy again.
        await tx.objectStore('records').clear()
        await tx.objectStore('tombstones').clear()
        report.reset ||= !!page.reset
      }
      for (const change of page.changes ?? []) {
        const key: [string, string] = [change.entity, String(change.id)]
        if (change.op === 'delete') {
          const existing = await tx.objectStore('records').get(key)
          if (!existing || existing.version == null || change.version == null || existing.version <= change.version) {
            await tx.objectStore('records').delete(key)
            await tx.objectStore('tombstones').put({ entity: change.entity, id: String(change.id), version: change.version ?? null })
          }
          report.deletes++
        } else {
          await this.putRecord(tx, change.entity, String(change.id), change.version ?? null, change.data ?? {}, true)
          report.upserts++
        }
      }
      await tx.objectStore('meta').put(page.cursor, 'cursor')
      await tx.done
      report.pages++
      if (!page.has_more) break
    }
    await setMeta(db, 'pulled_at', nowIso())
    this.onChange()
    return report
  }

  async sync(): Promise<{ push: PushReport; photos: any; pull: any }> {
    const push = await this.push()
    const photos = await this.uploadPhotos()
    const pull = await this.pull()
    return { push, photos, pull }
  }

  // ------------------------------------------------------------------ reading

  async records<T = any>(entity: string): Promise<LocalRecord<T>[]> {
    return (await this.dbp).getAllFromIndex('records', 'entity', entity) as Promise<LocalRecord<T>[]>
  }

  async recordOf<T = any>(entity: string, id: string): Promise<LocalRecord<T> | undefined> {
    return (await this.dbp).get('records', [entity, id]) as Promise<LocalRecord<T> | undefined>
  }

  async changes(): Promise<QueuedChange[]> {
    return (await (await this.dbp).getAll('changes')).sort((a, b) => b.seq! - a.seq!)
  }

  async photos(): Promise<Photo[]> {
    return (await this.dbp).getAll('photos')
  }

  async counts() {
    const changes = await this.changes()
    const photos = await this.photos()
    return {
      queued: changes.filter((c) => c.state === 'queued' && !c.batch_id).length,
      inFlight: changes.filter((c) => c.state === 'queued' && c.batch_id).length,
      applied: changes.filter((c) => c.state === 'applied').length,
      conflict: changes.filter((c) => c.state === 'conflict').length,
      rejected: changes.filter((c) => c.state === 'rejected').length,
      photosPending: photos.filter((p) => p.state === 'pending').length,
      photosFailed: photos.filter((p) => p.state === 'failed').length,
    }
  }
}

export function rangeEnd(response: Response): number {
  const match = RANGE.exec(response.headers.get('Range') ?? '')
  if (!match) throw new Transient('308 答复缺少 Range（答复不完整）')
  return Number(match[1]) + 1
}

function sniffMime(head: Uint8Array): string {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg'
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'image/png'
  if (String.fromCharCode(...head.slice(4, 8)) === 'ftyp') return 'image/heic'
  return 'application/octet-stream'
}

export type { SyncError }
