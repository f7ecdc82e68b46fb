// inspections/draw.py's compute_draw in TypeScript: the 双随机 draw recomputed from its published
// seed and pools, to show anyone that the published result is what the seed gives.
import { PyRandom } from './pyrandom'

export interface PoolEnterprise { id: string; grid_id?: string | null; region_path?: string | null }
export interface PoolInspector { id: string; region_level?: string | null; region_path?: string | null; grid_ids?: string[] | null }
export interface Drawn { enterprise_id: string; inspector_ids: string[] }

/** 回避: not where the inspector belongs (their own town or village, or a grid they work). */
export function conflicts(inspector: PoolInspector, enterprise: PoolEnterprise): boolean {
  if (enterprise.grid_id && (inspector.grid_ids ?? []).includes(enterprise.grid_id)) return true
  if (inspector.region_level === 'town' || inspector.region_level === 'village') {
    const path = enterprise.region_path ?? ''
    const own = inspector.region_path ?? ''
    return path === own || path.startsWith(`${own}.`)
  }
  return false
}

// Python sorts str by code point; ids are ASCII, where that is JavaScript's order too.
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export function computeDraw(seed: string, enterprisePool: PoolEnterprise[], inspectorPool: PoolInspector[],
  count: number, teamSize: number): Drawn[] {
  const rng = new PyRandom(seed)
  const enterprises = enterprisePool.slice().sort(byId)
  const inspectors = inspectorPool.slice().sort(byId)
  const chosen = rng.sample(enterprises, Math.min(count, enterprises.length))
  return chosen.map((enterprise) => {
    const eligible = inspectors.filter((i) => !conflicts(i, enterprise))
    if (eligible.length < teamSize) throw new Error(`企业 ${enterprise.id} 可回避后的执法人员不足 ${teamSize} 名`)
    const team = rng.sample(eligible, teamSize)
    return { enterprise_id: enterprise.id, inspector_ids: team.map((i) => i.id).sort() }
  })
}

export function sameDraw(a: Drawn[], b: Drawn[]): boolean {
  return a.length === b.length && a.every((drawn, i) => drawn.enterprise_id === b[i].enterprise_id
    && drawn.inspector_ids.length === b[i].inspector_ids.length
    && drawn.inspector_ids.every((id, j) => id === b[i].inspector_ids[j]))
}
