// The console's session and its calls to the API: the typed client (types generated from the OpenAPI
// document), every failure turned into a Chinese problem (never a raw error), a 401 ending the session.
import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { makeClient } from '@shared/api'
import { deviceId, loadSession, saveSession, type Session } from '@shared/auth'
import { fieldErrors, isProblem, problemText, readProblem, type Problem } from '@shared/problem'

const APP = 'console'

export const state = reactive<{ session: Session | null }>({ session: loadSession(APP) })
export const api = makeClient(() => state.session?.token)

/** A failed call, as the server explained it (problem+json), or as we explain a broken network. */
export class ProblemError extends Error {
  constructor(public problem: Problem) { super(describe(problem)) }
  get fields(): Record<string, string> { return fieldErrors(this.problem) }
}

/** The title and detail, and the reasons of the fields when the detail alone says nothing specific. */
function describe(problem: Problem): string {
  const text = problemText(problem)
  const reasons = Object.values(fieldErrors(problem)).filter((reason) => reason && !text.includes(reason))
  return reasons.length ? `${text}：${reasons.slice(0, 3).join('；')}${reasons.length > 3 ? ' 等' : ''}` : text
}

const NETWORK: Problem = { status: 0, code: 'network', title: '无法连接服务器', detail: '请检查网络后重试', type: 'about:blank' } as Problem

const SESSION_ENDED = '登录已失效，请重新登录'

// Said here, not only by the page whose call failed: the first 401 may answer a call that shows no
// error (a name looked up for a label), and the page is gone by the time its other calls fail.
function endSessionOn401(status: number) {
  if (status === 401 && state.session) {
    saveSession(APP, null)
    state.session = null
    ElMessage({ type: 'error', message: SESSION_ENDED, showClose: true, duration: 6000, grouping: true })
  }
}

/** The answer's data, or a ProblemError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await call
  } catch {
    throw new ProblemError(NETWORK)
  }
  if (result.response.ok) return result.data as T
  endSessionOn401(result.response.status)
  if (isProblem(result.error)) throw new ProblemError(result.error)
  throw new ProblemError({ status: result.response.status, code: 'http', title: `服务器答复 ${result.response.status}`, type: 'about:blank' } as Problem)
}

/** A raw fetch with the session's token (uploads, downloads); a failure becomes a ProblemError. */
export async function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (state.session?.token) headers.set('Authorization', `Bearer ${state.session.token}`)
  let response: Response
  try {
    response = await fetch(url, { ...init, headers })
  } catch {
    throw new ProblemError(NETWORK)
  }
  if (!response.ok) {
    endSessionOn401(response.status)
    throw new ProblemError(await readProblem(response))
  }
  return response
}

/** Tells the person what went wrong, in Chinese: a problem's title and detail, or a plain sentence. */
export function showError(error: unknown, fallback = '操作失败'): void {
  // Every call of a page fails at once when the session has ended: one sentence says it, once.
  const ended = error instanceof ProblemError && error.problem.status === 401
  const text = ended ? SESSION_ENDED : error instanceof ProblemError ? error.message : fallback
  ElMessage({ type: 'error', message: text, showClose: true, duration: 6000, grouping: true })
}

export function problemOf(error: unknown): Problem | null {
  return error instanceof ProblemError ? error.problem : null
}

export async function login(username: string, password: string): Promise<{ mustChange: boolean }> {
  const data = await ok(api.POST('/api/v1/auth/login', {
    body: { username, password, device: { id: deviceId(), name: '内勤工作台', platform: 'web' } },
  }))
  const roles = data.user?.roles ?? []
  if (!roles.includes('desk_officer') && !roles.includes('admin')) {
    throw new ProblemError({ status: 403, code: 'console.role', title: '无权使用内勤工作台', detail: '内勤工作台仅供内勤人员和管理员使用', type: 'about:blank' } as Problem)
  }
  const session: Session = {
    token: data.token ?? '', expires_at: data.expires_at ?? null, device_id: data.device_id ?? deviceId(),
    user: { id: data.user?.id ?? '', name: data.user?.name ?? '', roles, region_code: data.user?.region_code, username: data.user?.username },
  }
  saveSession(APP, session)
  state.session = session
  return { mustChange: !!data.must_change_password }
}

export async function logout(): Promise<void> {
  try { await api.POST('/api/v1/auth/logout') } catch { /* the session ends here anyway */ }
  saveSession(APP, null)
  state.session = null
}

/** Saves a Response's body as a file (the xlsx exports). */
export async function download(response: Response, fallbackName: string): Promise<void> {
  const blob = await response.blob()
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}
