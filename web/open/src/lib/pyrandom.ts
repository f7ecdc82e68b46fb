// Python's `random.Random(seed)` (CPython 3.11: Mersenne Twister MT19937, a str seed of version 2)
// and `Random.sample`, step for step, so anyone's browser can recompute a 双随机 draw
// (inspections/draw.py) from its published seed and pools and see the same result.

/** SHA-512 (FIPS 180-4) with BigInt words: run once per recomputation, where clarity beats speed,
 *  and it works where crypto.subtle does not (pages over plain http). */
const K512 = [
  '428a2f98d728ae22', '7137449123ef65cd', 'b5c0fbcfec4d3b2f', 'e9b5dba58189dbbc', '3956c25bf348b538',
  '59f111f1b605d019', '923f82a4af194f9b', 'ab1c5ed5da6d8118', 'd807aa98a3030242', '12835b0145706fbe',
  '243185be4ee4b28c', '550c7dc3d5ffb4e2', '72be5d74f27b896f', '80deb1fe3b1696b1', '9bdc06a725c71235',
  'c19bf174cf692694', 'e49b69c19ef14ad2', 'efbe4786384f25e3', '0fc19dc68b8cd5b5', '240ca1cc77ac9c65',
  '2de92c6f592b0275', '4a7484aa6ea6e483', '5cb0a9dcbd41fbd4', '76f988da831153b5', '983e5152ee66dfab',
  'a831c66d2db43210', 'b00327c898fb213f', 'bf597fc7beef0ee4', 'c6e00bf33da88fc2', 'd5a79147930aa725',
  '06ca6351e003826f', '142929670a0e6e70', '27b70a8546d22ffc', '2e1b21385c26c926', '4d2c6dfc5ac42aed',
  '53380d139d95b3df', '650a73548baf63de', '766a0abb3c77b2a8', '81c2c92e47edaee6', '92722c851482353b',
  'a2bfe8a14cf10364', 'a81a664bbc423001', 'c24b8b70d0f89791', 'c76c51a30654be30', 'd192e819d6ef5218',
  'd69906245565a910', 'f40e35855771202a', '106aa07032bbd1b8', '19a4c116b8d2d0c8', '1e376c085141ab53',
  '2748774cdf8eeb99', '34b0bcb5e19b48a8', '391c0cb3c5c95a63', '4ed8aa4ae3418acb', '5b9cca4f7763e373',
  '682e6ff3d6b2b8a3', '748f82ee5defb2fc', '78a5636f43172f60', '84c87814a1f0ab72', '8cc702081a6439ec',
  '90befffa23631e28', 'a4506cebde82bde9', 'bef9a3f7b2c67915', 'c67178f2e372532b', 'ca273eceea26619c',
  'd186b8c721c0c207', 'eada7dd6cde0eb1e', 'f57d4f7fee6ed178', '06f067aa72176fba', '0a637dc5a2c898a6',
  '113f9804bef90dae', '1b710b35131c471b', '28db77f523047d84', '32caab7b40c72493', '3c9ebe0a15c9bebc',
  '431d67c49c100d4c', '4cc5d4becb3e42b6', '597f299cfc657e2a', '5fcb6fab3ad6faec', '6c44198c4a475817',
].map((h) => BigInt(`0x${h}`))
const MASK64 = (1n << 64n) - 1n

export function sha512(bytes: Uint8Array): Uint8Array {
  const rotr = (x: bigint, n: bigint) => ((x >> n) | (x << (64n - n))) & MASK64
  const length = bytes.length
  const blocks = (length + 17 + 127) >> 7
  const padded = new Uint8Array(blocks * 128)
  padded.set(bytes)
  padded[length] = 0x80
  const view = new DataView(padded.buffer)
  view.setBigUint64(padded.length - 8, BigInt(length) * 8n)
  const h = ['6a09e667f3bcc908', 'bb67ae8584caa73b', '3c6ef372fe94f82b', 'a54ff53a5f1d36f1',
    '510e527fade682d1', '9b05688c2b3e6c1f', '1f83d9abfb41bd6b', '5be0cd19137e2179'].map((x) => BigInt(`0x${x}`))
  const w: bigint[] = new Array(80)
  for (let offset = 0; offset < padded.length; offset += 128) {
    for (let t = 0; t < 16; t++) w[t] = view.getBigUint64(offset + t * 8)
    for (let t = 16; t < 80; t++) {
      const s0 = rotr(w[t - 15], 1n) ^ rotr(w[t - 15], 8n) ^ (w[t - 15] >> 7n)
      const s1 = rotr(w[t - 2], 19n) ^ rotr(w[t - 2], 61n) ^ (w[t - 2] >> 6n)
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) & MASK64
    }
    let [a, b, c, d, e, f, g, k] = h
    for (let t = 0; t < 80; t++) {
      const S1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n)
      const ch = (e & f) ^ (~e & MASK64 & g)
      const t1 = (k + S1 + ch + K512[t] + w[t]) & MASK64
      const S0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n)
      const maj = (a & b) ^ (a & c) ^ (b & c)
      k = g; g = f; f = e; e = (d + t1) & MASK64; d = c; c = b; b = a; a = (t1 + S0 + maj) & MASK64
    }
    const next = [a, b, c, d, e, f, g, k]
    for (let i = 0; i < 8; i++) h[i] = (h[i] + next[i]) & MASK64
  }
  const out = new Uint8Array(64)
  const outView = new DataView(out.buffer)
  h.forEach((word, i) => outView.setBigUint64(i * 8, word))
  return out
}

const N = 624
const M = 397

export class PyRandom {
  private mt = new Uint32Array(N)
  private index = N + 1

  /** random.Random(seed) for a str seed: the int of (UTF-8 bytes + their SHA-512), as 32-bit words from the low end. */
  constructor(seed: string) {
    const text = new TextEncoder().encode(seed)
    const digest = sha512(text)
    const big = new Uint8Array(text.length + digest.length)
    big.set(text)
    big.set(digest, text.length)
    const key: number[] = []
    for (let end = big.length; end > 0; end -= 4) {
      let word = 0
      for (let i = Math.max(0, end - 4); i < end; i++) word = ((word << 8) | big[i]) >>> 0
      key.push(word)
    }
    while (key.length > 1 && key[key.length - 1] === 0) key.pop()
    this.initByArray(key.length ? key : [0])
  }

  private initGenrand(s: number) {
    const mt = this.mt
    mt[0] = s >>> 0
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0
    }
    this.index = N
  }

  private initByArray(key: number[]) {
    const mt = this.mt
    this.initGenrand(19650218)
    let i = 1
    let j = 0
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0
      i++; j++
      if (i >= N) { mt[0] = mt[N - 1]; i = 1 }
      if (j >= key.length) j = 0
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0
      i++
      if (i >= N) { mt[0] = mt[N - 1]; i = 1 }
    }
    mt[0] = 0x80000000
  }

  private next32(): number {
    const mt = this.mt
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff)
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      this.index = 0
    }
    let y = mt[this.index++]
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    return y >>> 0
  }

  /** getrandbits(k) for k ≤ 32 (pools here are far smaller than 2^32). */
  getrandbits(k: number): number {
    if (k === 0) return 0
    if (k > 32) throw new Error('getrandbits: more than 32 bits')
    return this.next32() >>> (32 - k)
  }

  /** _randbelow_with_getrandbits: rejection sampling on bit_length(n) bits. */
  randbelow(n: number): number {
    const k = n.toString(2).length
    let r = this.getrandbits(k)
    while (r >= n) r = this.getrandbits(k)
    return r
  }

  /** Random.sample(population, k), both of its branches. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length
    if (k < 0 || k > n) throw new Error('Sample larger than population or is negative')
    const result: T[] = new Array(k)
    let setsize = 21
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4))
    if (n <= setsize) {
      const pool = population.slice()
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i)
        result[i] = pool[j]
        pool[j] = pool[n - i - 1]
      }
    } else {
      const selected = new Set<number>()
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n)
        while (selected.has(j)) j = this.randbelow(n)
        selected.add(j)
        result[i] = population[j]
      }
    }
    return result
  }
}
