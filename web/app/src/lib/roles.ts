// Which tabs a person sees follows their roles (DESIGN.md §1): grid worker, inspector, enterprise officer.
import { computed } from 'vue'
import { session } from './session'

export const roles = computed(() => new Set(session.value?.user.roles ?? []))
export const isGridWorker = computed(() => roles.value.has('grid_worker'))
export const isInspector = computed(() => roles.value.has('inspector'))
export const isEnterprise = computed(() => roles.value.has('enterprise_officer'))

export interface Tab { name: string; title: string; icon: string; to: string }

export const tabs = computed<Tab[]>(() => {
  const out: Tab[] = []
  if (isGridWorker.value) out.push({ name: 'tasks', title: '任务', icon: 'todo-list-o', to: '/tasks' },
    { name: 'enterprises', title: '企业', icon: 'shop-o', to: '/enterprises' },
    { name: 'patrol', title: '巡查', icon: 'guide-o', to: '/patrol' })
  if (isInspector.value) out.push({ name: 'plans', title: '计划', icon: 'calendar-o', to: '/plans' },
    { name: 'enterprises', title: '企业', icon: 'shop-o', to: '/enterprises' })
  if (isEnterprise.value) out.push({ name: 'tasks', title: '自查', icon: 'todo-list-o', to: '/tasks' })
  out.push({ name: 'hazards', title: '隐患', icon: 'warning-o', to: '/hazards' },
    { name: 'outbox', title: '同步', icon: 'exchange', to: '/outbox' })
  const seen = new Set<string>()
  return out.filter((t) => (seen.has(t.name) ? false : (seen.add(t.name), true)))
})

export const homePath = computed(() => tabs.value[0]?.to ?? '/outbox')
