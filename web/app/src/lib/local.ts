// Reading the local copy from views: a ref that re-reads whenever the state changed (store.revision).
import { ref, watch, type Ref } from 'vue'
import { revision, sync } from './store'

export function useLocal<T>(read: () => Promise<T>, initial: T): { value: Ref<T>; loaded: Ref<boolean> } {
  const value = ref(initial) as Ref<T>
  const loaded = ref(false)
  const load = async () => {
    value.value = await read()
    loaded.value = true
  }
  watch(revision, load, { immediate: true })
  return { value, loaded }
}

export async function dataOf<T = any>(entity: string): Promise<T[]> {
  return (await sync().records<T>(entity)).map((r) => ({ ...(r.data as any), id: r.id, version: r.version ?? (r.data as any)?.version }))
}

export async function one<T = any>(entity: string, id: string): Promise<T | null> {
  const r = await sync().recordOf<T>(entity, id)
  return r ? ({ ...(r.data as any), id: r.id, version: r.version ?? (r.data as any)?.version } as T) : null
}
