// The proof-of-work of a public report (public_reports/challenge.py), off the page's thread: find a
// nonce such that SHA-256(challenge + ':' + nonce) starts with `bits` zero bits. Reports its tries
// now and then, so the page can show progress; the expected number of tries is 2^bits.
import { leadingZeroBits, sha256Words } from './sha256'

export interface PowRequest { challenge: string; bits: number }
export type PowMessage =
  | { kind: 'progress'; tries: number }
  | { kind: 'solved'; nonce: string; tries: number }

const PROGRESS_EVERY = 4096

self.onmessage = (event: MessageEvent<PowRequest>) => {
  const { challenge, bits } = event.data
  const encoder = new TextEncoder()
  const prefix = encoder.encode(`${challenge}:`)
  const buffer = new Uint8Array(prefix.length + 20)
  buffer.set(prefix)
  for (let nonce = 0; ; nonce++) {
    const digits = encoder.encodeInto(String(nonce), buffer.subarray(prefix.length)).written
    if (leadingZeroBits(sha256Words(buffer.subarray(0, prefix.length + digits))) >= bits) {
      postMessage({ kind: 'solved', nonce: String(nonce), tries: nonce + 1 } satisfies PowMessage)
      return
    }
    if (nonce % PROGRESS_EVERY === 0) postMessage({ kind: 'progress', tries: nonce } satisfies PowMessage)
  }
}
