// Chinese names of the API's codes (roles, statuses, levels, sources, industries, risk colours, tasks, audit actions).
import type { Paths } from '@shared/api'

export const ROLE_NAMES: Record<string, string> = {
  admin: '管理员', desk_officer: '内勤', inspector: '执法人员', grid_worker: '网格员', enterprise_officer: '企业安全员',
}
export const HAZARD_STATUS_NAMES: Record<string, string> = {
  reported: '已上报', ordered: '已责令整改', submitted: '整改待复查', closed: '已销号',
}
export const HAZARD_LEVEL_NAMES: Record<string, string> = { general: '一般隐患', major: '重大隐患' }
export const HAZARD_SOURCE_NAMES: Record<string, string> = {
  inspection: '执法检查', patrol: '网格员巡查', grid_report: '网格员上报', self: '企业自查自报', public: '群众举报',
}
export const INDUSTRY_NAMES: Record<string, string> = {
  fireworks: '烟花爆竹', hazardous_chemicals: '危险化学品', construction: '建筑施工', special_equipment: '特种设备',
  gas: '燃气',
}
export const RISK_NAMES: Record<string, string> = { red: '重大风险（红）', orange: '较大风险（橙）', yellow: '一般风险（黄）', blue: '低风险（蓝）' }
export const RISK_COLOURS: Record<string, string> = { red: '#e53935', orange: '#fb8c00', yellow: '#fdd835', blue: '#1e88e5' }

export function name(map: Record<string, string>, code: string | null | undefined): string {
  return code ? map[code] ?? code : '—'
}

/** A +08:00 timestamp shown as 2026-12-05 14:30. */
export function shownTime(value: string | null | undefined): string {
  if (!value) return '—'
  return value.replace('T', ' ').slice(0, 16)
}

export const TASK_KIND_NAMES: Record<string, string> = {
  patrol: '巡查', self_inspection: '企业自查', recheck: '复查', overdue_hazard: '逾期隐患督办', verify_report: '举报核查',
}
export const TASK_STATUS_NAMES: Record<string, string> = {
  open: '待办', accepted: '已接受', done: '已完成', declined: '已拒绝', cancelled: '已撤销',
}

/** The kinds of record whose 操作记录 can be read (GET /audit's ``entity``). */
export type AuditEntity = Paths['/api/v1/audit']['get']['parameters']['query']['entity']
/** What a page asks the 操作记录 drawer to show. */
export interface TrailOf { entity: AuditEntity; id: string; title: string }

// The audit log's actions (audit_log.action), by the kind of record where one word means different things.
export const AUDIT_ACTION_NAMES: Record<string, string> = {
  report: '上报隐患', order: '责令整改', submit: '提交整改', verify: '复查销号', reject: '复查退回', supervise: '挂牌督办',
  self_fix: '企业自改销号', spot_check: '抽查确认', reopen: '抽查重开',
  create: '新建', update: '修改', retire: '撤销网格', assign_workers: '调整网格员', record: '记录', draw: '双随机抽取',
  accept: '接受任务', complete: '完成任务', decline: '拒绝任务', cancel: '撤销任务', schedule: '定时生成任务',
  login: '登录', logout: '退出登录', change_password: '修改密码', deactivate: '停用账号', reactivate: '启用账号',
  reset_password: '重置密码', revoke: '停用设备', import: '导入', import_roster: '导入花名册', upload: '上传照片',
  issue: '签发文书', investigate: '调查取证', notify: '告知', decide: '作出决定', execute: '执行', close: '结案',
  receive: '收到举报', triage: '分拣', assign: '派发核查', conclude: '办结', reward: '奖励',
}
const AUDIT_ACTION_BY_ENTITY: Record<string, string> = {
  'task:create': '派发任务', 'grid:create': '新建网格', 'plan:create': '制定计划', 'enterprise:create': '登记企业',
  'user:create': '新建账号', 'case:create': '立案', 'signature:create': '签名', 'public_report:assign': '派发核查',
}
export function auditAction(entity: string, action: string | null | undefined): string {
  if (!action) return '—'
  return AUDIT_ACTION_BY_ENTITY[`${entity}:${action}`] ?? AUDIT_ACTION_NAMES[action] ?? action
}
