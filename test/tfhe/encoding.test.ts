import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encode, decode, deltaOf, noiseOf } from "../../src/tfhe/encoding.js";

test("Δ = 2^63 / p keeps the padding bit (known answers)", () => {
  assert.equal(deltaOf({ bits: 4 }), 1n << 59n);
  assert.equal(encode(1, { bits: 4 }), 1n << 59n);
  assert.equal(encode(15, { bits: 4 }), 15n << 59n);
  assert.equal(encode(-1, { bits: 4 }), ((1n << 64n) - (1n << 59n)));
  assert.equal(decode(encode(7, { bits: 3 }), { bits: 3 }), 7);
});

test("decode(encode(m) + e) = m mod p for |e| < Δ/2", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -100000, max: 100000 }), fc.double({ min: -0.499, max: 0.499, noNaN: true }),
    (bits, m, frac) => {
      const enc = { bits };
      const d = deltaOf(enc);
      const e = BigInt(Math.trunc(frac * Number(d)));
      const phase = BigInt.asUintN(64, encode(m, enc) + e);
      const p = 2 ** bits;
      assert.equal(decode(phase, enc), ((m % p) + p) % p);
      assert.ok(Math.abs(noiseOf(phase, m, enc) - Number(e) / 2 ** 64) < 2 ** -60);
    }));
});

test("encode rejects non-integers", () => {
  assert.throws(() => encode(1.5, { bits: 4 }), RangeError);
  assert.throws(() => encode(Number.NaN, { bits: 4 }), RangeError);
});
