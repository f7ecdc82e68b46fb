// Chinese names of the API's codes (roles, statuses, levels, sources, industries, risk colours).
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
