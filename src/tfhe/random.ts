// Randomness for TFHE: the platform CSPRNG for secrets and noise, a seeded ChaCha20 stream for masks that can be
// re-expanded from a seed, rounded Gaussian noise on the torus Z/2^64, and uniform binary secret keys.
//
// Platform: `globalThis.crypto.getRandomValues` (Web Crypto), present in browsers, workers and Node ≥ 19/20.
// No npm dependency. Words written into BigUint64Arrays or kernel memory are native-endian u64 (every host that
// runs the WebAssembly kernels is little-endian in practice; the kernels layer assumes it too).
import { kernels, type Kernels } from "../kernels/wasm.js";

/** Bytes of a ChaCha20 key, i.e. of a seed. */
export const SEED_BYTES = 32;
/** Bytes of a ChaCha20 nonce (RFC 8439 form: 96 bits). */
export const NONCE_BYTES = 12;
/** Keystream bytes per ChaCha20 block. */
export const CHACHA_BLOCK_BYTES = 64;
/** Blocks one (seed, nonce) pair can produce: the 32-bit block counter's range (2^32 blocks = 256 GiB). */
export const MAX_STREAM_BLOCKS = 2 ** 32;

/** Largest request `getRandomValues` accepts in one call (Web Crypto quota). */
const GRV_MAX = 65536;
const TWO32 = 4294967296;
const TWO_M53 = 2 ** -53;
const TWO_PI = 2 * Math.PI;
/** Largest accepted Gaussian std-dev (fraction of q): std·2^64 ≤ 2^60. */
const MAX_STD = 2 ** -4;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Index, within a u64's pair of u32 words, of its low and high halves. */
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

// ---------------------------------------------------------------------------------------------------------------
// Argument checks

function acount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

function aptr(name: string, ptr: number, align: number): void {
  if (!Number.isSafeInteger(ptr) || ptr <= 0 || ptr % align !== 0) {
    throw new RangeError(`${name} must be a positive kernel pointer aligned to ${align} bytes, got ${ptr}`);
  }
}

function abytes(name: string, v: unknown, len?: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (len !== undefined && v.length !== len) {
    throw new RangeError(`${name} must be ${len} bytes, got ${v.length}`);
  }
}

function astd(std: number): void {
  if (typeof std !== "number" || !(std >= 0 && std <= MAX_STD)) {
    throw new RangeError(`std must be a number in [0, 2^-4] (a fraction of q = 2^64), got ${std}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Platform CSPRNG

function platformCrypto(): Crypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new Error("no CSPRNG: globalThis.crypto.getRandomValues is unavailable on this platform");
  }
  return c;
}

function isShared(buf: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer;
}

/** Set only inside `_testOnlyDeterministicRandom`: the stream that replaces the platform CSPRNG. */
let testOnlyStream: SeededStream | undefined;

/** Fills `out` with bytes from the platform CSPRNG (in chunks of at most 64 KiB) and returns it. */
export function fillRandom<T extends Uint8Array>(out: T): T {
  abytes("out", out);
  if (testOnlyStream !== undefined) {
    testOnlyStream.fillBytes(out);
    return out;
  }
  const c = platformCrypto();
  if (isShared(out.buffer)) {
    // Web Crypto refuses views of shared memory: go through an unshared chunk.
    const tmp = new Uint8Array(Math.min(out.length, GRV_MAX));
    for (let off = 0; off < out.length; off += GRV_MAX) {
      const n = Math.min(GRV_MAX, out.length - off);
      const chunk = tmp.subarray(0, n);
      c.getRandomValues(chunk);
      out.set(chunk, off);
    }
    tmp.fill(0);
    return out;
  }
  for (let off = 0; off < out.length; off += GRV_MAX) {
    c.getRandomValues(out.subarray(off, Math.min(out.length, off + GRV_MAX)));
  }
  return out;
}

/** `n` fresh bytes from the platform CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  acount("n", n);
  return fillRandom(new Uint8Array(n));
}

/** A fresh 32-byte seed (ChaCha20 key) from the platform CSPRNG. */
export function newSeed(): Uint8Array {
  return randomBytes(SEED_BYTES);
}

/** Fills u64 words with uniform values mod 2^64 from the platform CSPRNG (non-seeded masks). */
export function fillUniformU64(out: BigUint64Array): void;
/** Fills `count` u64 words of kernel memory at `ptr` (8-byte aligned) with uniform values from the CSPRNG. */
export function fillUniformU64(ptr: number, count: number, k?: Kernels): void;
export function fillUniformU64(out: BigUint64Array | number, count?: number, k?: Kernels): void {
  if (typeof out === "number") {
    aptr("ptr", out, 8);
    acount("count", count as number);
    fillRandom((k ?? kernels()).u8(out, (count as number) * 8));
    return;
  }
  if (!(out instanceof BigUint64Array)) throw new TypeError("out must be a BigUint64Array or a kernel pointer");
  fillRandom(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
}

/**
 * Fills `out` with independent uniform bits (0 or 1 per element) from the CSPRNG: binary secret keys.
 * Each CSPRNG byte gives eight elements.
 */
export function fillUniformBinary(out: Uint8Array | Uint32Array | BigUint64Array): void {
  let words: Uint8Array | Uint32Array;
  let stride = 1;
  let offset = 0;
  if (out instanceof BigUint64Array) {
    words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
    stride = 2;
    offset = LO;
    words.fill(0);
  } else if (out instanceof Uint8Array || out instanceof Uint32Array) {
    words = out;
  } else {
    throw new TypeError("out must be a Uint8Array, Uint32Array or BigUint64Array");
  }
  const n = out.length;
  const pool = new Uint8Array(Math.min(GRV_MAX, Math.ceil(n / 8)));
  for (let base = 0; base < n; base += pool.length * 8) {
    const m = Math.min(n - base, pool.length * 8);
    fillRandom(pool.subarray(0, Math.ceil(m / 8)));
    for (let i = 0; i < m; i++) {
      words[(base + i) * stride + offset] = (pool[i >>> 3]! >>> (i & 7)) & 1;
    }
  }
  pool.fill(0);
}

// ---------------------------------------------------------------------------------------------------------------
// Rounded Gaussian noise on the torus

/**
 * Stores the integer-valued f64 `x` (any sign and size) mod 2^64 into words[w + LO], words[w + HI].
 * Exact: x = hi·2^32 + lo with hi = ⌊x / 2^32⌋ and lo ∈ [0, 2^32) (both exact in f64); the Uint32Array store
 * reduces hi mod 2^32, which gives the two's complement of x mod 2^64. Internal (exported for tests).
 */
export function _putI64(words: Uint32Array, w: number, x: number): void {
  const hi = Math.floor(x / TWO32);
  words[w + LO] = x - hi * TWO32;
  words[w + HI] = hi;
}

/** Reused pool of CSPRNG words for the Gaussian sampler (64 KiB: one `getRandomValues` call per refill). */
let gaussPool: Uint32Array | undefined;

/**
 * Writes `count` i.i.d. samples of round(N(0, (std·2^64)²)) as wrapping u64 (two's complement) into the u32
 * pairs of `words` starting at word index `start` (2 words a sample).
 */
function gaussianInto(words: Uint32Array, start: number, count: number, std: number): void {
  if (count === 0) return;
  const sigma = std * TWO32 * TWO32;
  if (sigma === 0) {
    words.fill(0, start, start + 2 * count);
    return;
  }
  const pool = (gaussPool ??= new Uint32Array(GRV_MAX / 4));
  const poolBytes = new Uint8Array(pool.buffer);
  const plen = pool.length;
  let pos = plen;
  let w = start;
  const end = start + 2 * count;
  while (w < end) {
    if (pos === plen) {
      fillRandom(poolBytes);
      pos = 0;
    }
    // Two 53-bit uniforms: u1 in (0, 1] (log never sees 0), u2 in [0, 1).
    const u1 = ((pool[pos]! >>> 11) * TWO32 + pool[pos + 1]! + 1) * TWO_M53;
    const u2 = ((pool[pos + 2]! >>> 11) * TWO32 + pool[pos + 3]!) * TWO_M53;
    pos += 4;
    // Box–Muller: two independent standard normals from one pair.
    const r = sigma * Math.sqrt(-2 * Math.log(u1));
    const t = TWO_PI * u2;
    // Round to an integer (an f64) and store it mod 2^64.
    _putI64(words, w, Math.round(r * Math.cos(t)));
    w += 2;
    if (w === end) break;
    _putI64(words, w, Math.round(r * Math.sin(t)));
    w += 2;
  }
  pool.fill(0);
}

/**
 * Fills `out` with i.i.d. rounded Gaussian samples of standard deviation `std`·2^64 (`std` is a fraction of
 * q = 2^64, e.g. 2^-48.3 for a GLWE key), written as wrapping u64 (negative x as 2^64 + x).
 *
 * Method: Box–Muller on pairs of 53-bit uniforms from the platform CSPRNG, u1 ∈ (0, 1] so the logarithm is
 * finite; the product std·2^64·z is an f64 rounded to the nearest integer (ties towards +∞) and split exactly
 * into 32-bit halves, so no BigInt is involved. Precision: the sample is exact up to f64 rounding, i.e. a
 * relative error ≤ 2^-52 of |x|, which is below 1 unit for |x| < 2^52 and a negligible 2^-50·σ beyond; any
 * std·2^64 up to 2^60 is accepted (values wrap correctly mod 2^64 even past 2^63). The smallest u1 (2^-53)
 * bounds |z| by √(106·ln 2) ≈ 8.57, so the tail beyond 8.57σ (probability ≈ 10^-17) is cut.
 * Not constant-time (Math.log/cos/sin): as in other TFHE libraries, the noise is assumed not observable
 * through timing.
 */
export function fillGaussianTorus(out: BigUint64Array, std: number): void;
/** Same, into `count` u64 words of kernel memory at `ptr` (8-byte aligned). */
export function fillGaussianTorus(ptr: number, count: number, std: number, k?: Kernels): void;
export function fillGaussianTorus(out: BigUint64Array | number, a: number, b?: number, k?: Kernels): void {
  if (typeof out === "number") {
    aptr("ptr", out, 8);
    acount("count", a);
    astd(b as number);
    if (a === 0) return;
    gaussianInto((k ?? kernels()).u32(out, a * 2), 0, a, b as number);
    return;
  }
  if (!(out instanceof BigUint64Array)) throw new TypeError("out must be a BigUint64Array or a kernel pointer");
  astd(a);
  gaussianInto(new Uint32Array(out.buffer, out.byteOffset, out.length * 2), 0, out.length, a);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded ChaCha20 stream

function nonceBytes(nonce: Uint8Array | number | bigint): Uint8Array {
  if (nonce instanceof Uint8Array) {
    abytes("nonce", nonce, NONCE_BYTES);
    return nonce.slice();
  }
  let v: bigint;
  if (typeof nonce === "number") {
    if (!Number.isSafeInteger(nonce) || nonce < 0) throw new RangeError(`nonce must be a non-negative integer`);
    v = BigInt(nonce);
  } else if (typeof nonce === "bigint") {
    if (nonce < 0n || nonce >= 1n << 96n) throw new RangeError("nonce must be in [0, 2^96)");
    v = nonce;
  } else {
    throw new TypeError("nonce must be a 12-byte Uint8Array, a number or a bigint");
  }
  const out = new Uint8Array(NONCE_BYTES);
  for (let i = 0; i < NONCE_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Kernel scratch layout of a fill call: key (32 bytes), nonce (12), padding, one spare block at 64. */
const ST_NONCE = 32;
const ST_BLOCK = 64;
const ST_BYTES = 128;
/** Chunk used to fill JS-side arrays through kernel memory. */
const JS_CHUNK = 64 * 1024;

/**
 * A deterministic ChaCha20 keystream (RFC 8439) from a 32-byte seed (the key) and a 12-byte nonce used as a
 * domain separator, starting at block counter 0. Byte j of the stream is byte j of the keystream; u64 word i is
 * bytes 8i..8i+7 read little-endian, a uniform value mod 2^64: this is the format that seeded keys and
 * ciphertexts rely on to re-expand their masks, so it must never change.
 *
 * A (seed, nonce) pair gives at most 2^32 blocks (256 GiB); past that the fill methods throw rather than reuse
 * keystream: use another nonce for more. The stream owns no kernel memory (key and nonce are copied into a
 * temporary block for each call and wiped), so nothing needs freeing.
 */
export class SeededStream {
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  readonly #k: Kernels | undefined;
  /** Next block counter value. */
  #counter = 0;
  /** Unused keystream bytes of the last partially consumed block: #rest[#restPos..64). */
  readonly #rest = new Uint8Array(CHACHA_BLOCK_BYTES);
  #restPos = CHACHA_BLOCK_BYTES;

  /**
   * @param seed 32 bytes (ChaCha20 key), e.g. from `newSeed()`
   * @param nonce domain separator: 12 bytes, or an integer < 2^96 encoded as 12 little-endian bytes
   * @param k the kernels to run on (default: this thread's)
   */
  constructor(seed: Uint8Array, nonce: Uint8Array | number | bigint = 0, k?: Kernels) {
    abytes("seed", seed, SEED_BYTES);
    this.#key = seed.slice();
    this.#nonce = nonceBytes(nonce);
    this.#k = k;
  }

  /** A stream on a fresh CSPRNG seed (read it back with `seed`). */
  static random(nonce: Uint8Array | number | bigint = 0, k?: Kernels): SeededStream {
    return new SeededStream(newSeed(), nonce, k);
  }

  /** A copy of the seed. */
  get seed(): Uint8Array {
    return this.#key.slice();
  }

  /** A copy of the nonce. */
  get nonce(): Uint8Array {
    return this.#nonce.slice();
  }

  /** Keystream bytes consumed so far. */
  get position(): number {
    return this.#counter * CHACHA_BLOCK_BYTES - (CHACHA_BLOCK_BYTES - this.#restPos);
  }

  /** Keystream bytes still available before the 2^32-block limit. */
  get remaining(): number {
    return (MAX_STREAM_BLOCKS - this.#counter) * CHACHA_BLOCK_BYTES + (CHACHA_BLOCK_BYTES - this.#restPos);
  }

  /**
   * Moves to keystream byte `position` (0 ≤ position ≤ 2^38): random access, e.g. to expand the mask of the
   * i-th element of a seeded list without expanding the ones before it.
   */
  seek(position: number): void {
    acount("position", position);
    if (position > MAX_STREAM_BLOCKS * CHACHA_BLOCK_BYTES) throw new RangeError("position is past 2^32 blocks");
    this.#counter = Math.floor(position / CHACHA_BLOCK_BYTES);
    this.#restPos = CHACHA_BLOCK_BYTES;
    const off = position % CHACHA_BLOCK_BYTES;
    if (off === 0) return;
    this.#withState((st) => {
      const k = this.#kernels;
      k.k.chacha20Blocks(st, st + ST_NONCE, this.#counter, st + ST_BLOCK, 1);
      this.#rest.set(k.u8(st + ST_BLOCK, CHACHA_BLOCK_BYTES));
    });
    this.#counter += 1;
    this.#restPos = off;
  }

  get #kernels(): Kernels {
    return this.#k ?? kernels();
  }

  /** Fills `out` with the next out.length keystream bytes. */
  fillBytes(out: Uint8Array): void {
    abytes("out", out);
    this.#fillJs(out);
  }

  /** Writes the next `len` keystream bytes into kernel memory at `ptr`. */
  fillKernelBytes(ptr: number, len: number): void {
    aptr("ptr", ptr, 1);
    acount("len", len);
    this.#checkAvailable(len);
    this.#withState((st) => this.#fillKernel(st, ptr, len));
  }

  /** Fills u64 words with the next uniform values mod 2^64 (8 keystream bytes each, little-endian). */
  fillU64(out: BigUint64Array): void;
  /** Same, into `count` u64 words of kernel memory at `ptr` (8-byte aligned). */
  fillU64(ptr: number, count: number): void;
  fillU64(out: BigUint64Array | number, count?: number): void {
    if (typeof out === "number") {
      this.fillKernelU64(out, count as number);
      return;
    }
    if (!(out instanceof BigUint64Array)) throw new TypeError("out must be a BigUint64Array or a kernel pointer");
    this.#fillJs(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }

  /** Expands `count` uniform u64 (torus masks) straight into kernel memory at `ptr` (8-byte aligned). */
  fillKernelU64(ptr: number, count: number): void {
    aptr("ptr", ptr, 8);
    acount("count", count);
    this.fillKernelBytes(ptr, count * 8);
  }

  /** The next uniform u64 (convenience; prefer the bulk fills). */
  nextU64(): bigint {
    const w = new BigUint64Array(1);
    this.fillU64(w);
    return w[0]!;
  }

  #checkAvailable(len: number): void {
    if (len > this.remaining) {
      throw new RangeError(
        "ChaCha20 stream exhausted: a (seed, nonce) pair gives at most 2^32 blocks (256 GiB); use another nonce");
    }
  }

  #fillJs(out: Uint8Array): void {
    this.#checkAvailable(out.length);
    const len = out.length;
    if (len === 0) return;
    this.#withState((st) => {
      const k = this.#kernels;
      const chunk = Math.min(len, JS_CHUNK);
      const buf = k.alloc(chunk);
      try {
        for (let off = 0; off < len; off += chunk) {
          const n = Math.min(chunk, len - off);
          this.#fillKernel(st, buf, n);
          out.set(k.u8(buf, n), off);
        }
        k.u8(buf, chunk).fill(0);
      } finally {
        k.free(buf);
      }
    });
  }

  /** Runs `fn` with a temporary kernel block holding key and nonce, wiped and freed afterwards. */
  #withState(fn: (st: number) => void): void {
    const k = this.#kernels;
    const st = k.alloc(ST_BYTES);
    try {
      const u = k.u8(st, ST_BYTES);
      u.set(this.#key, 0);
      u.set(this.#nonce, ST_NONCE);
      fn(st);
    } finally {
      k.u8(st, ST_BYTES).fill(0);
      k.free(st);
    }
  }

  /** Writes the next `len` bytes at `ptr` (availability already checked). */
  #fillKernel(st: number, ptr: number, len: number): void {
    const k = this.#kernels;
    // 1. Leftover bytes of the previous partial block.
    const fromRest = Math.min(len, CHACHA_BLOCK_BYTES - this.#restPos);
    if (fromRest > 0) {
      k.u8(ptr, fromRest).set(this.#rest.subarray(this.#restPos, this.#restPos + fromRest));
      this.#restPos += fromRest;
      ptr += fromRest;
      len -= fromRest;
    }
    // 2. Whole blocks straight into the destination.
    const whole = Math.floor(len / CHACHA_BLOCK_BYTES);
    if (whole > 0) {
      k.k.chacha20Blocks(st, st + ST_NONCE, this.#counter, ptr, whole);
      this.#counter += whole;
      ptr += whole * CHACHA_BLOCK_BYTES;
      len -= whole * CHACHA_BLOCK_BYTES;
    }
    // 3. A partial block: generate it aside, keep what is not used.
    if (len > 0) {
      k.k.chacha20Blocks(st, st + ST_NONCE, this.#counter, st + ST_BLOCK, 1);
      this.#counter += 1;
      const block = k.u8(st + ST_BLOCK, CHACHA_BLOCK_BYTES);
      k.u8(ptr, len).set(block.subarray(0, len));
      this.#rest.set(block);
      this.#restPos = len;
      block.fill(0);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Test-only seam

/** Nonce of the test-only stream: outside the small integers the mask domains use. */
const TEST_ONLY_NONCE = 0xffff_ffff;

/**
 * TEST ONLY — insecure by design, never for data that matters, and not exported from the package index.
 * Runs `fn` (synchronous) with every draw this module makes — seeds, secret keys, Gaussian noise, CSPRNG
 * masks — taken from a ChaCha20 stream of `seed` instead of the platform CSPRNG, so that whole objects
 * (keys, seeded ciphertexts) are reproducible and their serialized bytes can be frozen as golden vectors.
 * The platform CSPRNG is back in use when `fn` returns or throws.
 */
export function _testOnlyDeterministicRandom<T>(seed: Uint8Array, fn: () => T): T {
  const previous = testOnlyStream;
  testOnlyStream = new SeededStream(seed, TEST_ONLY_NONCE);
  let result: T;
  try {
    result = fn();
  } finally {
    testOnlyStream = previous;
  }
  if (result instanceof Promise) {
    throw new TypeError("_testOnlyDeterministicRandom runs synchronous functions only (the scope ends when fn returns)");
  }
  return result;
}
