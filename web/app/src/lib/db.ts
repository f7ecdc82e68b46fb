// The phone's state in IndexedDB (idb), as the reference client keeps it in SQLite (sync/client/state.py):
// - records:    the local copy, by entity and id, with the version the server gave
// - tombstones: what the pull deleted, with the tombstone's version (an old answer must not bring it back)
// - changes:    the outbox, in the order recorded; a change in a batch carries its batch id
// - batches:    each batch's id and members, stored before it is first sent, and its answer once heard
// - photos:     the original bytes of every photo until the server holds them
// - drafts:     every form field as typed, per form, so nothing typed is lost across reloads
// - meta:       cursor, limits, last push, clock skew
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'

export type Entity = 'enterprise' | 'grid' | 'hazard' | 'task' | 'plan' | 'checklist_template' | 'inspection' | 'patrol' | string
export type ChangeState = 'queued' | 'applied' | 'conflict' | 'rejected'

export interface LocalRecord<T = any> { entity: Entity; id: string; version: number | null; data: T; pulled: boolean }

export interface QueuedChange {
  seq?: number
  entity: Entity
  op: 'create' | 'transition'
  id: string
  base_version: number | null
  recorded_at: string
  data: any
  state: ChangeState
  batch_id: string | null
  attempts: number
  rebased: number
  result: any | null
  /** The record as the phone showed it when a transition was recorded (rules.rebase). */
  seen: any | null
  /** What the person sees in the outbox: 「上报隐患：…」 */
  label: string
  /** The form that made it, to reopen on its field when the server refuses it. */
  form?: string | null
  done_at?: string | null
}

export interface Batch { batch_id: string; seqs: number[]; created_at: string; sends: number; answer: any | null }

export interface Photo {
  sha256: string
  /** The original bytes until the server holds them; then the server's thumbnail stands in. */
  blob: Blob | null
  size: number
  mime: string
  name: string
  state: 'pending' | 'held' | 'failed'
  sent_bytes: number
  error: string | null
  created_at: string
}

export interface Draft { form: string; fields: Record<string, any>; updated_at: string }

interface Schema extends DBSchema {
  records: { key: [string, string]; value: LocalRecord; indexes: { entity: string } }
  tombstones: { key: [string, string]; value: { entity: string; id: string; version: number | null } }
  changes: { key: number; value: QueuedChange; indexes: { state: string; batch: string; record: [string, string] } }
  batches: { key: string; value: Batch }
  photos: { key: string; value: Photo; indexes: { state: string } }
  drafts: { key: string; value: Draft }
  meta: { key: string; value: any }
}

export type Db = IDBPDatabase<Schema>

let opened: Promise<Db> | null = null

/** One database per user on this phone: another user's copy and queue never mix with this one's. */
export function database(userId: string): Promise<Db> {
  if (!opened) {
    opened = openDB<Schema>(`anxun-field-${userId}`, 1, {
      upgrade(db) {
        db.createObjectStore('records', { keyPath: ['entity', 'id'] }).createIndex('entity', 'entity')
        db.createObjectStore('tombstones', { keyPath: ['entity', 'id'] })
        const changes = db.createObjectStore('changes', { keyPath: 'seq', autoIncrement: true })
        changes.createIndex('state', 'state')
        changes.createIndex('batch', 'batch_id')
        changes.createIndex('record', ['entity', 'id'])
        db.createObjectStore('batches', { keyPath: 'batch_id' })
        db.createObjectStore('photos', { keyPath: 'sha256' }).createIndex('state', 'state')
        db.createObjectStore('drafts', { keyPath: 'form' })
        db.createObjectStore('meta')
      },
    })
  }
  return opened
}

export function closeDatabase(): void {
  if (opened) opened.then((db) => db.close())
  opened = null
}

export async function getMeta<T = any>(db: Db, key: string, fallback: T | null = null): Promise<T | null> {
  const value = await db.get('meta', key)
  return value === undefined ? fallback : (value as T)
}

export async function setMeta(db: Db, key: string, value: any): Promise<void> {
  await db.put('meta', value, key)
}
