// Chinese names of the codes the API uses (SYNC_PROTOCOL.md "Codes used in payloads").
export const INDUSTRY: Record<string, string> = { fireworks: '烟花爆竹', hazardous_chemicals: '危险化学品', construction: '建筑施工',
  special_equipment: '特种设备', gas: '燃气' }
export const SUBTYPE: Record<string, string> = { retail: '零售', production_wholesale: '生产批发', wholesale: '批发', production: '生产',
  filling_station: '加油加气站', trading: '经营', storage: '仓储', trading_storage: '经营储存', housing_municipal: '房建市政',
  user_unit: '使用单位', operator: '经营企业', user: '用户' }
export const RISK: Record<string, { name: string; color: string }> = {
  red: { name: '重大风险', color: '#ee0a24' }, orange: { name: '较大风险', color: '#ff976a' },
  yellow: { name: '一般风险', color: '#e6a700' }, blue: { name: '低风险', color: '#1989fa' } }
export const LEVEL: Record<string, string> = { general: '一般隐患', major: '重大隐患' }
export const INSPECTION_KIND: Record<string, string> = { routine: '日常检查', special: '专项检查', random: '双随机', unannounced: '四不两直',
  recheck: '复查', self: '企业自查', patrol_check: '网格员巡查' }
export const TASK_KIND: Record<string, string> = { patrol: '巡查', self_inspection: '企业自查', recheck: '复查', overdue_hazard: '逾期隐患',
  verify_report: '核查举报' }
export const OUTCOME: Record<string, string> = { normal: '正常', hazard_found: '发现隐患', closed_down: '已停业', not_found: '未找到' }

/** A time from the server (…+08:00) as 11月22日 09:30, a date as 11月22日. */
export function shortTime(value: string | null | undefined): string {
  if (!value) return ''
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value)
  if (!m) return value
  return `${Number(m[2])}月${Number(m[3])}日${m[4] ? ` ${m[4]}:${m[5]}` : ''}`
}

/** Days from today (the phone's clock) to a deadline; negative when past. */
export function daysUntil(value: string | null | undefined, now = new Date()): number | null {
  if (!value) return null
  const when = new Date(value.length === 10 ? `${value}T23:59:59+08:00` : value)
  return Math.ceil((when.getTime() - now.getTime()) / 86_400_000)
}
export const ROLE: Record<string, string> = { admin: '管理员', desk_officer: '内勤', inspector: '执法人员', grid_worker: '网格员',
  enterprise_officer: '企业安全员' }
