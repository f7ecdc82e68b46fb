// Solving a report's challenge in a Web Worker, with progress: no outside service, the page stays responsive.
import type { PowMessage } from './pow.worker'

export interface Solution { nonce: string; tries: number; seconds: number }

/** Solve `challenge` (`bits` leading zero bits); `onProgress` gets a share in 0..0.99 of the expected work. */
export function solveChallenge(challenge: string, bits: number, onProgress: (share: number) => void): Promise<Solution> {
  const expected = 2 ** bits
  const started = performance.now()
  const worker = new Worker(new URL('./pow.worker.ts', import.meta.url), { type: 'module' })
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<PowMessage>) => {
      const message = event.data
      if (message.kind === 'progress') {
        // Tries are geometric: past the expected count, creep towards the end instead of stopping at 100 %.
        onProgress(Math.min(0.99, 1 - Math.exp(-message.tries / expected)))
      } else {
        worker.terminate()
        onProgress(1)
        resolve({ nonce: message.nonce, tries: message.tries, seconds: (performance.now() - started) / 1000 })
      }
    }
    worker.onerror = (event) => {
      worker.terminate()
      reject(new Error(event.message || '验证计算失败'))
    }
    worker.postMessage({ challenge, bits })
  })
}
