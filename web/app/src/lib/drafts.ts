// Drafts: every field of a form as typed, written to IndexedDB on each change, so nothing typed is lost
// when the page reloads, the phone kills the app or the battery dies. A form's draft goes once the
// change it made is queued (the outbox then holds it).
import { effectScope, reactive, watch, type UnwrapNestedRefs } from 'vue'
import { nowIso } from './sync'
import { sync } from './store'

export interface DraftHandle<T extends object> {
  fields: UnwrapNestedRefs<T>
  ready: Promise<void>
  /** Forget the draft and start the form again from its defaults. */
  clear: () => Promise<void>
}

/** ``detached``: the draft outlives the page that opened it (the running patrol, written to by several pages). */
export function useDraft<T extends object>(form: string, defaults: () => T, detached = false): DraftHandle<T> {
  const fields = reactive(defaults()) as UnwrapNestedRefs<T>
  let loaded = false
  const ready = (async () => {
    const db = await sync().db()
    const saved = await db.get('drafts', form)
    if (saved) Object.assign(fields, saved.fields)
    loaded = true
  })()
  const save = () => watch(fields as object, async () => {
    if (!loaded) return
    const db = await sync().db()
    // A plain copy: IndexedDB cannot store Vue's proxies.
    await db.put('drafts', { form, fields: JSON.parse(JSON.stringify(fields)), updated_at: nowIso() })
  }, { deep: true })
  // A watcher made in a page's setup stops when the page goes; a detached one keeps writing.
  if (detached) effectScope(true).run(save)
  else save()
  return {
    fields,
    ready,
    async clear() {
      const db = await sync().db()
      loaded = false
      await db.delete('drafts', form)
      Object.assign(fields, defaults())
      // Let the watcher see the reset before drafts are written again.
      await Promise.resolve()
      loaded = true
    },
  }
}
