// The signed-in person's regions (区县 → 乡镇 → 村/社区), loaded once: names for codes and the pickers.
import { api, ok, state } from './api'

export interface RegionNode { code: string; name: string; level: string; parent: string | null; children: RegionNode[] }

let loading: Promise<RegionNode[]> | null = null
let loadedFor: string | undefined

/** The top region with its towns and their villages (two levels below the person's own region);
 * loaded again when someone else signs in. */
export function regionTree(): Promise<RegionNode[]> {
  const who = state.session?.user.id
  if (!loading || loadedFor !== who) {
    loadedFor = who
    loading = load().catch((error) => { loading = null; throw error })
  }
  return loading
}

async function one(code: string) {
  return ok(api.GET('/api/v1/regions/{code}', { params: { path: { code } } }))
}

async function load(): Promise<RegionNode[]> {
  const code = state.session?.user.region_code
  if (!code) return []
  const top = await one(code)
  const root: RegionNode = { code: top.code ?? code, name: top.name ?? code, level: top.level ?? '', parent: top.parent_code ?? null, children: [] }
  const below = top.children ?? []
  if (root.level === 'town' || root.level === 'village') {
    root.children = below.map((c) => ({ code: c.code ?? '', name: c.name ?? '', level: c.level ?? '', parent: root.code, children: [] }))
    return [root]
  }
  root.children = await Promise.all(below.map(async (child) => {
    const town = await one(child.code ?? '')
    return {
      code: town.code ?? '', name: town.name ?? '', level: town.level ?? '', parent: root.code,
      children: (town.children ?? []).map((v) => ({ code: v.code ?? '', name: v.name ?? '', level: v.level ?? '', parent: town.code ?? null, children: [] })),
    }
  }))
  return [root]
}

export function flatten(nodes: RegionNode[]): RegionNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)])
}

/** The towns (乡镇/街道) in the tree. */
export function towns(nodes: RegionNode[]): RegionNode[] {
  return flatten(nodes).filter((n) => n.level === 'town')
}
