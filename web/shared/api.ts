// The typed API client shared by the three web apps. Types come from the server's OpenAPI document
// (generated/openapi.d.ts, made by scripts/web.sh from `python -m api.document`): never written by hand.
import createClient from 'openapi-fetch'
import type { components, paths } from './generated/openapi'

export type Schemas = components['schemas']
export type Paths = paths

export function makeClient(getToken: () => string | null | undefined, baseUrl = '') {
  const client = createClient<paths>({ baseUrl })
  client.use({
    onRequest({ request }) {
      const token = getToken()
      if (token) request.headers.set('Authorization', `Bearer ${token}`)
      return request
    },
  })
  return client
}

export type ApiClient = ReturnType<typeof makeClient>
