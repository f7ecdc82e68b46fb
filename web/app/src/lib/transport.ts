// HTTP for the field app's sync: one attempt (`send`) or several with backoff (`request`), as
// sync/client/transport.py. No answer, a 5xx or a 429 is worth another try (Retry-After honoured);
// a success answer of this API always carries JSON, so one whose body does not parse was cut short
// (or came from a captive portal) and counts as no answer.
import type { Problem } from '@shared/problem'
import { readProblem } from '@shared/problem'

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504])

export class SyncError extends Error {}
/** No answer after every attempt: nothing is lost, the same batch goes again next time. */
export class Unreachable extends SyncError {}
export class RetryLater extends SyncError {
  constructor(message: string, public retryAfter: number | null = null, public status: number | null = null) { super(message) }
}
export class HttpProblem extends SyncError {
  constructor(public status: number, public problem: Problem) { super(`${status} ${problem.code ?? ''} ${problem.title ?? ''}`) }
}
/** 401: not logged in, token expired or device revoked. Log in again (the outbox stays). */
export class AuthRequired extends HttpProblem {}

export class Transient extends Error {
  constructor(message: string, public retryAfter: number | null = null) { super(message) }
}

export interface TransportOptions { token: () => string | null | undefined; maxAttempts?: number; backoffMs?: number }

export function retryAfterSeconds(value: string | null): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const when = Date.parse(value)
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000)
}

export class Transport {
  maxAttempts: number
  backoffMs: number
  constructor(private options: TransportOptions) {
    this.maxAttempts = options.maxAttempts ?? 3
    this.backoffMs = options.backoffMs ?? 500
  }

  /** One attempt. Raises Transient for what another attempt may cure. */
  async send(method: string, path: string, init: { body?: BodyInit | null; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers ?? {})
    const token = this.options.token()
    if (token) headers.set('Authorization', `Bearer ${token}`)
    let response: Response
    try {
      response = await fetch(path, { method, body: init.body ?? null, headers, cache: 'no-store' })
    } catch (err) {
      throw new Transient(`无网络：${(err as Error).message}`)
    }
    if (RETRY_STATUSES.has(response.status)) {
      throw new Transient(`服务器繁忙（${response.status}）`, retryAfterSeconds(response.headers.get('Retry-After')))
    }
    return response
  }

  async wait(attempt: number, retry: Transient): Promise<void> {
    const ms = retry.retryAfter != null ? retry.retryAfter * 1000 : this.backoffMs * 2 ** attempt
    if (ms > 30_000) throw new RetryLater('服务器要求稍后再试', retry.retryAfter)
    await new Promise((resolve) => setTimeout(resolve, ms))
  }

  giveUp(retry: Transient): SyncError {
    return retry.message.startsWith('无网络') ? new Unreachable(retry.message) : new RetryLater(retry.message, retry.retryAfter)
  }

  /** Several attempts; returns the first answer that is not worth retrying, with its JSON body when it has one. */
  async request(method: string, path: string, init: { json?: any; headers?: Record<string, string>; gzip?: boolean } = {}):
      Promise<{ response: Response; body: any }> {
    let body: BodyInit | null = null
    const headers: Record<string, string> = { ...(init.headers ?? {}) }
    if (init.json !== undefined) {
      const text = JSON.stringify(init.json)
      headers['Content-Type'] = 'application/json'
      if (init.gzip && text.length >= 1024 && typeof CompressionStream !== 'undefined') {
        body = await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).blob()
        headers['Content-Encoding'] = 'gzip'
      } else body = text
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.send(method, path, { body, headers })
        let parsed: any = null
        const type = response.headers.get('Content-Type') ?? ''
        if (response.ok) {
          try {
            parsed = await response.json()
          } catch {
            throw new Transient('无网络：答复不完整')
          }
        } else if (type.includes('json')) {
          parsed = await response.json().catch(() => null)
        }
        return { response, body: parsed }
      } catch (err) {
        if (!(err instanceof Transient)) throw err
        if (attempt + 1 >= this.maxAttempts) throw this.giveUp(err)
        await this.wait(attempt, err)
      }
    }
  }
}

/** The answer's body when it has the status wanted, else the right error. */
export async function expect(answer: { response: Response; body: any }, ...statuses: number[]): Promise<any> {
  const { response, body } = answer
  if (statuses.includes(response.status)) return body
  const problem = body && typeof body === 'object' && 'status' in body ? (body as Problem) : await readProblem(response)
  if (response.status === 401) throw new AuthRequired(401, problem)
  throw new HttpProblem(response.status, problem)
}
