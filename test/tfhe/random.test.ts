// Randomness: CSPRNG helpers, the seeded ChaCha20 stream (vs node:crypto), Gaussian torus noise statistics,
// uniform binary keys.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { kernels } from "../../src/kernels/wasm.js";
import {
  SeededStream, newSeed, randomBytes, fillRandom, fillUniformU64, fillUniformBinary, fillGaussianTorus, _putI64,
  SEED_BYTES, MAX_STREAM_BLOCKS,
} from "../../src/tfhe/random.js";
import { GlweSecretKey, LweSecretKey } from "../../src/tfhe/secret-key.js";
import { ClientKey } from "../../src/tfhe/client-key.js";
import { PARAM_MESSAGE_4 } from "../../src/tfhe/parameters.js";

/** OpenSSL's ChaCha20 keystream (IV = 32-bit little-endian counter ‖ 96-bit nonce). */
function reference(key: Uint8Array, nonce: Uint8Array, counter: number, len: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter >>> 0, 0);
  Buffer.from(nonce).copy(iv, 4);
  return new Uint8Array(createCipheriv("chacha20", key, iv).update(Buffer.alloc(len)));
}

const u64Bytes = (w: BigUint64Array): Uint8Array => new Uint8Array(w.buffer, w.byteOffset, w.byteLength);

// ---------------------------------------------------------------------------------------------------------------
// Platform CSPRNG

test("randomBytes / fillRandom: any length (beyond the 64 KiB Web Crypto quota), unbiased bytes", () => {
  assert.equal(randomBytes(0).length, 0);
  const n = 200_000;
  const r = randomBytes(n);
  assert.equal(r.length, n);
  let sum = 0;
  for (const b of r) sum += b;
  // Byte std-dev √((256²−1)/12) ≈ 73.9; mean of n bytes within 5σ of 127.5.
  assert.ok(Math.abs(sum / n - 127.5) < 5 * 73.9 / Math.sqrt(n), `mean byte ${sum / n}`);
  const buf = new Uint8Array(70_000);
  assert.equal(fillRandom(buf), buf);
  assert.ok(buf.subarray(65_536).some((b) => b !== 0), "the second chunk was filled");
  assert.throws(() => randomBytes(-1), RangeError);
});

test("newSeed: 32 fresh bytes", () => {
  const a = newSeed(), b = newSeed();
  assert.equal(a.length, SEED_BYTES);
  assert.notDeepEqual(a, b);
});

test("fillUniformU64: BigUint64Array and kernel memory, every bit balanced within 5σ", () => {
  const n = 20_000;
  const w = new BigUint64Array(n);
  fillUniformU64(w);
  const counts = new Array<number>(64).fill(0);
  for (const v of w) for (let b = 0; b < 64; b++) counts[b]! += Number((v >> BigInt(b)) & 1n);
  for (let b = 0; b < 64; b++) {
    assert.ok(Math.abs(counts[b]! - n / 2) <= 5 * Math.sqrt(n) / 2, `bit ${b}: ${counts[b]} ones of ${n}`);
  }
  const K = kernels();
  const p = K.alloc(8 * 101);
  try {
    K.u64(p, 101).fill(0n);
    fillUniformU64(p, 100);
    const got = K.u64(p, 101);
    assert.ok(got.subarray(0, 100).some((v) => v !== 0n));
    assert.equal(got[100], 0n, "wrote past count");
    assert.throws(() => fillUniformU64(p + 4, 1), RangeError);
  } finally {
    K.free(p);
  }
});

/** χ² statistic of byte counts against the uniform law. */
function chiSquare(counts: ArrayLike<number>, total: number): number {
  const e = total / counts.length;
  let x = 0;
  for (let i = 0; i < counts.length; i++) x += (counts[i]! - e) ** 2 / e;
  return x;
}

/** χ² with `df` degrees of freedom stays below df + 7·√(2·df) except with probability < 10^-8 (df ≥ 255). */
const chiSquareBound = (df: number): number => df + 7 * Math.sqrt(2 * df);

test("fillUniformU64 into kernel memory (every CSPRNG mask): exact extent, uniform bytes and bits, fresh on each call", () => {
  const K = kernels();
  const count = 1 << 17; // 1 MiB: 16 Web Crypto chunks
  const p = K.alloc(8 * (count + 2));
  try {
    const guard = 0x5a5a5a5a5a5a5a5an;
    const all = () => K.u64(p, count + 2);
    all().fill(guard);
    fillUniformU64(p + 8, count);
    const first = all().slice();
    assert.equal(first[0], guard, "wrote before ptr");
    assert.equal(first[count + 1], guard, "wrote past count");
    const w = first.subarray(1, count + 1);
    // A zero or guard word has probability 2^-64 each: any means a part of the range was not filled.
    assert.ok(w.every((v) => v !== 0n && v !== guard), "some words were left unfilled");
    // Bytes: one χ² over the 256 values, and one per byte position within the word (e.g. a zeroed high half).
    const bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    const overall = new Float64Array(256);
    const byPosition = Array.from({ length: 8 }, () => new Float64Array(256));
    for (let i = 0; i < bytes.length; i++) {
      overall[bytes[i]!]!++;
      byPosition[i & 7]![bytes[i]!]!++;
    }
    const x = chiSquare(overall, bytes.length);
    assert.ok(x < chiSquareBound(255), `byte χ² = ${x.toFixed(1)} (255 degrees of freedom)`);
    byPosition.forEach((c, j) => {
      const xj = chiSquare(c, count);
      assert.ok(xj < chiSquareBound(255), `byte ${j} of each word: χ² = ${xj.toFixed(1)}`);
    });
    // Every bit position balanced (5σ).
    const words32 = new Uint32Array(w.buffer, w.byteOffset, count * 2);
    for (let b = 0; b < 64; b++) {
      let ones = 0;
      const half = b >> 5, bit = b & 31;
      for (let i = 0; i < count; i++) ones += (words32[2 * i + half]! >>> bit) & 1;
      assert.ok(Math.abs(ones - count / 2) <= 5 * Math.sqrt(count) / 2, `bit ${b}: ${ones} ones of ${count}`);
    }
    // A second fill of the same memory is fresh: no word repeats at its position.
    fillUniformU64(p + 8, count);
    const second = all();
    let same = 0;
    for (let i = 1; i <= count; i++) if (second[i] === first[i]) same++;
    assert.equal(same, 0, `${same} words equal across two fills`);
  } finally {
    K.free(p);
  }
});

test("fillUniformBinary: only 0/1, unbiased overall and per bit position of the source bytes (5σ)", () => {
  const n = 1 << 20;
  const s = new Uint8Array(n);
  fillUniformBinary(s);
  let ones = 0;
  const pos = new Array<number>(8).fill(0);
  for (let i = 0; i < n; i++) {
    assert.ok(s[i] === 0 || s[i] === 1);
    ones += s[i]!;
    pos[i & 7]! += s[i]!;
  }
  assert.ok(Math.abs(ones - n / 2) <= 5 * Math.sqrt(n) / 2, `${ones} ones of ${n}`);
  for (let j = 0; j < 8; j++) {
    assert.ok(Math.abs(pos[j]! - n / 16) <= 5 * Math.sqrt(n / 8) / 2, `position ${j}: ${pos[j]} of ${n / 8}`);
  }
  const w = new BigUint64Array(4096).fill(7n);
  fillUniformBinary(w);
  assert.ok(w.every((v) => v === 0n || v === 1n));
  const ones64 = w.reduce((a, v) => a + Number(v), 0);
  assert.ok(Math.abs(ones64 - 2048) <= 5 * 32, `${ones64} ones of 4096`);
  const u = new Uint32Array(4096).fill(9);
  fillUniformBinary(u);
  assert.ok(u.every((v) => v === 0 || v === 1));
});

/**
 * Independence of key bits across lags: for lags 1..64, the number of positions where bit i and bit i+lag
 * agree. For i.i.d. uniform bits the XORs x_i ⊕ x_(i+lag) are themselves i.i.d. uniform (the map is
 * triangular over GF(2)), so the count over M pairs is Binomial(M, 1/2) exactly. 6σ per lag keeps the
 * family-wise false alarm below 10^-6; a key whose bit i+8 copies bit i even for one byte in eight moves
 * the lag-8 rate by 1/16, i.e. 30σ at 2^18 bits.
 */
function assertLagIndependent(keys: readonly ArrayLike<number>[], what: string): void {
  for (let lag = 1; lag <= 64; lag++) {
    let agree = 0, pairs = 0;
    for (const bits of keys) {
      for (let i = 0; i + lag < bits.length; i++) if (bits[i] === bits[i + lag]) agree++;
      pairs += Math.max(0, bits.length - lag);
    }
    const sd = Math.sqrt(pairs) / 2;
    assert.ok(Math.abs(agree - pairs / 2) <= 6 * sd,
      `${what}: bits ${lag} apart agree ${(agree / pairs).toFixed(4)} of the time (${pairs} pairs; expected 1/2 ± ${(6 * sd / pairs).toFixed(4)})`);
  }
}

test("fillUniformBinary: bits independent across lags 1..64 (agreement of bit i and bit i+lag is 1/2), every array type", () => {
  const n = 1 << 18;
  const u8 = new Uint8Array(n);
  fillUniformBinary(u8);
  assertLagIndependent([u8], "Uint8Array");
  const u32 = new Uint32Array(n);
  fillUniformBinary(u32);
  assertLagIndependent([u32], "Uint32Array");
  const u64 = new BigUint64Array(n >> 2);
  fillUniformBinary(u64);
  assertLagIndependent([Uint8Array.from(u64, Number)], "BigUint64Array");
});

test("secret keys: bits independent across lags 1..64 (large LWE and GLWE keys, and 32 client keys at PARAM_MESSAGE_4)", () => {
  assertLagIndependent([LweSecretKey.generate(1 << 18).bits], "LweSecretKey.generate(2^18)");
  assertLagIndependent([GlweSecretKey.generate(4, 1 << 16).asLweKey().bits], "GlweSecretKey.generate(4, 2^16)");
  const lwe: Uint8Array[] = [], glwe: Uint8Array[] = [];
  for (let i = 0; i < 32; i++) {
    const c = ClientKey.generate(PARAM_MESSAGE_4);
    lwe.push(c.lweKey.bits.slice());
    glwe.push(c.glweKey.asLweKey().bits.slice());
    c.wipe();
  }
  assertLagIndependent(lwe, "ClientKey LWE keys (n = 834)");
  assertLagIndependent(glwe, "ClientKey GLWE keys (kN = 2048)");
});

test("the lag test has power: bit i+8 a copy of bit i in one byte of eight fails it", () => {
  const bits = new Uint8Array(1 << 18);
  fillUniformBinary(bits);
  for (let i = 0; i + 8 < bits.length; i += 64) bits.copyWithin(i + 8, i, i + 8);
  assert.throws(() => assertLagIndependent([bits], "planted"), /bits 8 apart/);
});

// ---------------------------------------------------------------------------------------------------------------
// Seeded stream

test("SeededStream is ChaCha20 (RFC 8439) from block 0, as node:crypto computes it", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.integer({ min: 0, max: 2000 }),
      (seed, nonce, len) => {
        const out = new Uint8Array(len);
        new SeededStream(seed, nonce).fillBytes(out);
        assert.deepEqual(out, reference(seed, nonce, 0, len));
      },
    ),
    { numRuns: 60 },
  );
});

test("SeededStream: deterministic; nonces and seeds separate streams; integer nonces are 96-bit little-endian", () => {
  const seed = newSeed();
  const a = new BigUint64Array(1000), b = new BigUint64Array(1000), c = new BigUint64Array(1000);
  new SeededStream(seed, 1).fillU64(a);
  new SeededStream(seed, 1).fillU64(b);
  new SeededStream(seed, 2).fillU64(c);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const d = new BigUint64Array(1000);
  new SeededStream(newSeed(), 1).fillU64(d);
  assert.notDeepEqual(a, d);

  const n5 = new Uint8Array(12); n5[0] = 5;
  const x = new BigUint64Array(10), y = new BigUint64Array(10);
  new SeededStream(seed, 5).fillU64(x);
  new SeededStream(seed, n5).fillU64(y);
  assert.deepEqual(x, y);
  const nHigh = new Uint8Array(12); nHigh[11] = 0x80; nHigh[0] = 1;
  new SeededStream(seed, (1n << 95n) + 1n).fillU64(x);
  new SeededStream(seed, nHigh).fillU64(y);
  assert.deepEqual(x, y);
  // u64 word i is keystream bytes 8i..8i+7, little-endian.
  assert.deepEqual(u64Bytes(y), reference(seed, nHigh, 0, 80));
});

test("SeededStream: the stream does not depend on how reads are split (bytes, kernel bytes, u64)", () => {
  const K = kernels();
  fc.assert(
    fc.property(
      fc.array(fc.record({ kind: fc.constantFrom("bytes", "kernel", "u64", "kernelU64"), n: fc.nat(300) }),
        { maxLength: 12 }),
      (reads) => {
        const seed = newSeed();
        const stream = new SeededStream(seed, 9);
        const parts: Uint8Array[] = [];
        for (const { kind, n } of reads) {
          if (kind === "bytes") {
            const o = new Uint8Array(n);
            stream.fillBytes(o);
            parts.push(o);
          } else if (kind === "u64") {
            const o = new BigUint64Array(n >> 3);
            stream.fillU64(o);
            parts.push(u64Bytes(o).slice());
          } else {
            const len = kind === "kernel" ? n : (n >> 3) * 8;
            const p = K.alloc(len + 8);
            try {
              if (kind === "kernel") stream.fillKernelBytes(p, len);
              else stream.fillKernelU64(p, len / 8);
              parts.push(K.u8(p, len).slice());
            } finally {
              K.free(p);
            }
          }
        }
        const all = Buffer.concat(parts);
        assert.equal(stream.position, all.length);
        const nonce = new Uint8Array(12); nonce[0] = 9;
        assert.ok(all.equals(reference(seed, nonce, 0, all.length)));
      },
    ),
    { numRuns: 80 },
  );
});

test("SeededStream: fillU64(ptr, count) expands masks straight into kernel memory", () => {
  const K = kernels();
  const seed = newSeed();
  const count = 100_003;
  const p = K.alloc(count * 8 + 8);
  try {
    K.u64(p, count + 1).fill(0n);
    new SeededStream(seed, 3).fillU64(p, count);
    const want = new BigUint64Array(count);
    new SeededStream(seed, 3).fillU64(want);
    const got = K.u64(p, count + 1);
    assert.deepEqual(got.subarray(0, count), want);
    // …and it is ChaCha20 itself (nonce 3 as 12 little-endian bytes), not only consistent with fillU64.
    const nonce = new Uint8Array(12); nonce[0] = 3;
    assert.ok(Buffer.from(u64Bytes(got.subarray(0, count))).equals(reference(seed, nonce, 0, count * 8)));
    assert.equal(got[count], 0n, "wrote past count");
    assert.throws(() => new SeededStream(seed).fillKernelU64(p + 4, 1), RangeError);
  } finally {
    K.free(p);
  }
});

test("SeededStream: seek, and refusal to run past 2^32 blocks", () => {
  const seed = newSeed();
  const nonce = newSeed().subarray(0, 12);
  const s = new SeededStream(seed, nonce);
  for (const pos of [0, 1, 63, 64, 65, 1000, 12345]) {
    s.seek(pos);
    const o = new Uint8Array(100);
    s.fillBytes(o);
    assert.deepEqual(o, reference(seed, nonce, 0, pos + 100).subarray(pos), `seek(${pos})`);
  }
  const end = MAX_STREAM_BLOCKS * 64;
  s.seek(end - 100); // = (2^32 − 2)·64 + 28
  assert.equal(s.remaining, 100);
  const last = new Uint8Array(100);
  s.fillBytes(last);
  assert.deepEqual(last, reference(seed, nonce, 2 ** 32 - 2, 128).subarray(28));
  assert.equal(s.remaining, 0);
  assert.throws(() => s.fillBytes(new Uint8Array(1)), RangeError);
  s.seek(end - 64);
  assert.throws(() => s.fillU64(new BigUint64Array(9)), RangeError);
  assert.equal(s.position, end - 64, "a refused read consumes nothing");
  assert.throws(() => s.seek(end + 1), RangeError);
});

test("SeededStream: argument checks; the seed is copied", () => {
  assert.throws(() => new SeededStream(new Uint8Array(31)), RangeError);
  assert.throws(() => new SeededStream(new Uint8Array(32), new Uint8Array(8)), RangeError);
  assert.throws(() => new SeededStream(new Uint8Array(32), -1), RangeError);
  assert.throws(() => new SeededStream(new Uint8Array(32), 1n << 96n), RangeError);
  const seed = newSeed();
  const s1 = new SeededStream(seed);
  const first = s1.nextU64();
  const copy = seed.slice();
  seed.fill(0);
  const s2 = new SeededStream(copy);
  assert.equal(s2.nextU64(), first);
  assert.deepEqual(s1.seed, copy);
  const r = SeededStream.random(4);
  assert.equal(r.seed.length, 32);
  assert.notDeepEqual(r.seed, SeededStream.random(4).seed);
});

// ---------------------------------------------------------------------------------------------------------------
// Gaussian noise

test("_putI64 stores any integer-valued f64 exactly mod 2^64", () => {
  const w = new Uint32Array(2);
  const view = new BigUint64Array(w.buffer);
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (b) => {
      const x = Number(b); // an f64 integer near b
      _putI64(w, 0, x);
      assert.equal(view[0], BigInt.asUintN(64, BigInt(x)));
    }),
    { numRuns: 2000 },
  );
  for (const x of [0, -0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) - 1, 2 ** 53, -(2 ** 53), 2 ** 63, -(2 ** 63)]) {
    _putI64(w, 0, x);
    assert.equal(view[0], BigInt.asUintN(64, BigInt(x)), `x = ${x}`);
  }
});

/** Signed values of wrapping u64 samples (exact while |x| < 2^53). */
function signed(w: BigUint64Array): Float64Array {
  const lo = new Uint32Array(w.buffer, w.byteOffset, w.length * 2);
  const hi = new Int32Array(w.buffer, w.byteOffset, w.length * 2);
  const out = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = hi[2 * i + 1]! * 4294967296 + lo[2 * i]!;
  return out;
}

/**
 * Checks that `x` looks like n i.i.d. samples of N(0, σ²) rounded to integers, each statistic within 5 standard
 * deviations of its estimator: mean (σ/√n), variance (σ²·√(2/(n−1)), expected σ² + 1/12 for the rounding),
 * fraction within ±σ (√(p(1−p)/n), p = 0.682689), fourth standardized moment (√(96/n), expected 3).
 */
function checkGaussian(x: Float64Array, sigma: number): void {
  const n = x.length;
  let s1 = 0;
  for (const v of x) s1 += v;
  const mean = s1 / n;
  let s2 = 0, s4 = 0, inside = 0;
  for (const v of x) {
    const d = v - mean;
    s2 += d * d;
    s4 += d * d * d * d;
    if (Math.abs(v) <= sigma) inside++;
  }
  const variance = s2 / (n - 1);
  const varExpected = sigma * sigma + 1 / 12;
  assert.ok(Math.abs(mean) <= 5 * sigma / Math.sqrt(n), `mean ${mean} for σ = ${sigma}`);
  const varTol = 5 * varExpected * Math.sqrt(2 / (n - 1));
  assert.ok(Math.abs(variance - varExpected) <= varTol,
    `variance ${variance} vs ${varExpected} (± ${varTol}) for σ = ${sigma}`);
  const p = 0.6826894921370859;
  assert.ok(Math.abs(inside / n - p) <= 5 * Math.sqrt(p * (1 - p) / n), `P(|x| ≤ σ) = ${inside / n}`);
  const kurt = s4 / n / (variance * variance);
  assert.ok(Math.abs(kurt - 3) <= 5 * Math.sqrt(96 / n), `kurtosis ${kurt}`);
}

for (const log2std of [-48.3, -18.1]) {
  test(`fillGaussianTorus: N(0, σ²) statistics within 5σ over 200,000 samples, std = 2^${log2std}`, () => {
    const n = 200_000;
    const w = new BigUint64Array(n);
    fillGaussianTorus(w, 2 ** log2std);
    checkGaussian(signed(w), 2 ** (log2std + 64));
    // Negative samples are stored as 2^64 + x.
    assert.ok(w.some((v) => v >= 1n << 63n));
  });
}

test("the Gaussian check has power: it flags a 3% std error and a uniform law of the right variance", () => {
  const n = 200_000;
  const sigma = 2 ** (64 - 18.1);
  const w = new BigUint64Array(n);
  fillGaussianTorus(w, 1.03 * 2 ** -18.1);
  assert.throws(() => checkGaussian(signed(w), sigma), /variance/);
  const u = new Float64Array(n);
  const half = sigma * Math.sqrt(3); // uniform on [−√3σ, √3σ] has variance σ²
  const r = new Uint32Array(n);
  fillRandom(new Uint8Array(r.buffer));
  for (let i = 0; i < n; i++) u[i] = Math.round((r[i]! / 2 ** 32 * 2 - 1) * half);
  assert.throws(() => checkGaussian(u, sigma), /P\(\|x\| ≤ σ\)|kurtosis/);
});

test("fillGaussianTorus into kernel memory: exact count, same distribution", () => {
  const K = kernels();
  const n = 100_001; // odd: the last Box–Muller pair is half used
  const p = K.alloc(8 * (n + 1));
  try {
    K.u64(p, n + 1).fill(0n);
    fillGaussianTorus(p, n, 2 ** -18.1);
    const w = K.u64(p, n + 1);
    assert.equal(w[n], 0n, "wrote past count");
    checkGaussian(signed(w.slice(0, n)), 2 ** (64 - 18.1));
    assert.throws(() => fillGaussianTorus(p + 4, 1, 2 ** -20), RangeError);
  } finally {
    K.free(p);
  }
});

test("fillGaussianTorus: large std (2^-4, σ = 2^60) wraps mod 2^64 correctly", () => {
  const n = 50_000;
  const w = new BigUint64Array(n);
  fillGaussianTorus(w, 2 ** -4);
  const x = Float64Array.from(w, (v) => Number(BigInt.asIntN(64, v)));
  checkGaussian(x, 2 ** 60);
});

test("fillGaussianTorus: edge cases and argument checks", () => {
  const w = new BigUint64Array(5).fill(3n);
  fillGaussianTorus(w, 0);
  assert.deepEqual(w, new BigUint64Array(5));
  fillGaussianTorus(new BigUint64Array(0), 2 ** -20);
  const one = new BigUint64Array(3);
  fillGaussianTorus(one.subarray(1, 2), 2 ** -10);
  assert.equal(one[0], 0n);
  assert.equal(one[2], 0n);
  for (const bad of [-1, Number.NaN, 0.5, Infinity]) {
    assert.throws(() => fillGaussianTorus(new BigUint64Array(1), bad), RangeError, `std ${bad}`);
  }
});
