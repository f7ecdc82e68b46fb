// What a phone may push, and rebasing a conflicting change on the server's `current` record:
// sync/client/rules.py rule for rule (the contract's transition table, SYNC_PROTOCOL.md §2).

export const OPS = new Set(['inspection:create', 'patrol:create', 'hazard:create', 'hazard:transition', 'task:transition'])

interface Rule { sources: string[]; target: string | null }

export const TRANSITIONS: Record<string, Record<string, Rule>> = {
  hazard: {
    order: { sources: ['reported'], target: 'ordered' },
    submit: { sources: ['ordered'], target: 'submitted' },
    verify: { sources: ['submitted'], target: 'closed' },
    reject: { sources: ['submitted'], target: 'ordered' },
    supervise: { sources: ['reported', 'ordered', 'submitted'], target: null },
    // Extensions (docs/sync.md, 自查自报自改): the enterprise's own fix, and the spot check of it.
    self_fix: { sources: ['reported'], target: 'closed' },
    spot_check: { sources: ['closed'], target: null },
    reopen: { sources: ['closed'], target: 'ordered' },
  },
  task: {
    accept: { sources: ['open'], target: 'accepted' },
    complete: { sources: ['open', 'accepted'], target: 'done' },
    decline: { sources: ['open', 'accepted'], target: 'declined' },
  },
}

export function ruleFor(entity: string, action: string | null | undefined): Rule | undefined {
  return TRANSITIONS[entity]?.[action ?? '']
}

/** The record as the phone expects it after `action` was applied at `version`. */
export function after(entity: string, record: any, action: string | null | undefined, version: number | null | undefined): any {
  const out = { ...record }
  const rule = ruleFor(entity, action)
  if (rule?.target) out.status = rule.target
  if (entity === 'hazard' && action === 'supervise') out.supervised = true
  if (entity === 'hazard' && (action === 'self_fix' || action === 'reopen')) out.self_fixed = action === 'self_fix'
  if (version != null) out.version = version
  return out
}

// Recheck decisions (复查: 销号 or 退回, and the spot check of a 自改) judge one submitted rectification.
const JUDGE_SUBMISSION = new Set(['hazard:verify', 'hazard:reject', 'hazard:spot_check', 'hazard:reopen'])

const submission = (record: any) => (record ? `${record.submitted_at ?? ''}|${record.submitted_by ?? ''}` : null)

export interface Rebased { seq: number; base_version: number }
export interface Stuck { seq: number; reason: string }

/** Replay the queued transitions of one record (oldest first) on `current`: see rules.py `rebase`. */
export function rebase(entity: string, current: any,
                       intents: { seq: number; action: string | null; seen: any }[]): { rebased: Rebased[]; stuck: Stuck[] } {
  let status = current?.status
  let version: number | null = current?.version ?? null
  const theirs = submission(current)
  let own = false
  const rebased: Rebased[] = []
  const stuck: Stuck[] = []
  for (const { seq, action, seen } of intents) {
    const rule = ruleFor(entity, action)
    if (!rule || version == null) stuck.push({ seq, reason: `无法对 ${entity} 的 ${action} 变基` })
    else if (!rule.sources.includes(status)) stuck.push({ seq, reason: `服务器上的记录状态已是「${statusName(status)}」，不能再${actionName(action)}` })
    else if (JUDGE_SUBMISSION.has(`${entity}:${action}`) && !(own || submission(seen) === theirs))
      stuck.push({ seq, reason: '整改材料已重新提交，须查看新的整改情况后重新复查' })
    else {
      rebased.push({ seq, base_version: version })
      version += 1
      status = rule.target ?? status
      own = own || action === 'submit'
    }
  }
  return { rebased, stuck }
}

/** Hazards an inspection raises, as the server names them: uuid5(inspection id, item code). */
export function failedItems(data: any): string[] {
  return (data?.answers ?? []).filter((a: any) => a.result === 'fail').map((a: any) => a.item)
}

/** Every photo a change's data names: its own, its answers' and its visits'. */
export function photosNamed(data: any): string[] {
  const photos: string[] = [...(data?.photos ?? [])]
  for (const part of [...(data?.answers ?? []), ...(data?.visits ?? [])]) photos.push(...(part.photos ?? []))
  return [...new Set(photos)]
}

const STATUS: Record<string, string> = { reported: '待整改', ordered: '整改中', submitted: '待复查', closed: '已销号',
                                         open: '待办', accepted: '已接受', done: '已完成', declined: '已拒绝', cancelled: '已撤销' }
const ACTIONS: Record<string, string> = { order: '责令整改', submit: '提交整改', verify: '复查销号', reject: '复查退回',
                                          supervise: '挂牌督办', self_fix: '自改销号', spot_check: '抽查确认', reopen: '抽查重开',
                                          accept: '接受任务', complete: '完成任务', decline: '拒绝任务' }

export const statusName = (status: string | null | undefined) => STATUS[status ?? ''] ?? status ?? ''
export const actionName = (action: string | null | undefined) => ACTIONS[action ?? ''] ?? action ?? ''
