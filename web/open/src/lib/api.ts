// The public pages' API client (no token: everything here is open) and how its failures read:
// problem+json turned into a Chinese sentence, a lost connection into one too.
import { makeClient } from '@shared/api'
import { fieldErrors, isProblem, problemText, type Problem } from '@shared/problem'

export const api = makeClient(() => null)

export class ProblemError extends Error {
  constructor(public problem: Problem) {
    super(problemText(problem))
  }

  get fields(): Record<string, string> {
    return fieldErrors(this.problem)
  }
}

const OFFLINE = { status: 0, title: '无法连接服务器', detail: '请检查网络后重试', code: 'network', type: 'about:blank' } as Problem

/** The answer's data, or a ProblemError carrying the server's problem+json (or a network one). */
export async function answer<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result
  try {
    result = await request
  } catch {
    throw new ProblemError(OFFLINE)
  }
  if (result.error !== undefined || !result.response.ok) {
    const error = result.error
    throw new ProblemError(isProblem(error) ? error
      : { status: result.response.status, title: `服务器答复 ${result.response.status}`, code: 'http', type: 'about:blank' } as Problem)
  }
  return result.data as T
}

export function messageOf(error: unknown): string {
  if (error instanceof ProblemError) return error.message
  return error instanceof Error ? error.message : String(error)
}

const BEIJING = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
  day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/** "2026-11-22 09:00" in Beijing time, whatever the phone's own zone (answers carry their offset). */
export function shownTime(value: string | null | undefined): string {
  if (!value) return ''
  const moment = new Date(value)
  if (Number.isNaN(moment.getTime())) return value
  const part = Object.fromEntries(BEIJING.formatToParts(moment).map((p) => [p.type, p.value]))
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`
}

/** The date part of shownTime: "2026-11-22". */
export const shownDate = (value: string | null | undefined) => shownTime(value).slice(0, 10)

export function megabytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`
  const mb = bytes / (1024 * 1024)
  return `${mb >= 10 ? Math.floor(mb) : Math.floor(mb * 10) / 10} MB`
}
