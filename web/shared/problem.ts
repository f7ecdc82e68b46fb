// problem+json (RFC 9457) as people read it: the Chinese title and detail, and one message per field.
import type { components } from './generated/openapi'

export type Problem = components['schemas']['ProblemOut']
export interface FieldError { code?: string | null; field?: string | null; message?: string | null }

export function isProblem(value: unknown): value is Problem {
  return !!value && typeof value === 'object' && 'status' in value && ('title' in value || 'code' in value)
}

/** Field path (as the server names it, e.g. `data.description`) → the reason, in Chinese. */
export function fieldErrors(problem: { errors?: FieldError[] | null } | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const error of problem?.errors ?? []) {
    const key = error.field ?? ''
    const message = error.message ?? error.code ?? ''
    out[key] = out[key] ? `${out[key]}；${message}` : message
  }
  return out
}

/** The message for the field named `name`, also when the server prefixed it (`data.name`, `answers.0.value`). */
export function errorFor(errors: Record<string, string>, name: string): string | undefined {
  if (errors[name]) return errors[name]
  for (const [field, message] of Object.entries(errors)) {
    if (field === `data.${name}` || field.endsWith(`.${name}`)) return message
  }
  return undefined
}

/** One line for a toast or a banner: title, then detail when it adds something. */
export function problemText(problem: Partial<Problem> | null | undefined, fallback = '操作失败'): string {
  if (!problem) return fallback
  const title = problem.title || fallback
  return problem.detail && problem.detail !== title ? `${title}：${problem.detail}` : title
}

/** A Response read as a problem (a non-JSON error page from a proxy becomes a plain one). */
export async function readProblem(response: Response): Promise<Problem> {
  try {
    const body = await response.clone().json()
    if (isProblem(body)) return body
  } catch { /* not JSON */ }
  return { status: response.status, title: `服务器答复 ${response.status}`, code: 'http', type: 'about:blank' } as Problem
}
