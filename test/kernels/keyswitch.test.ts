// The key-switch kernel against a BigInt reference: out = (0,…,0,b) − Σ_i Σ_j d_{i,j}·KSK_{i,j} with the
// balanced digits d of each input coefficient, on random words (the arithmetic, not the cryptography).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { kernels } from "../../src/kernels/wasm.js";
import { balancedDigits } from "../helpers/reference.js";

const K = kernels();


test("keyswitch kernel equals the BigInt reference for β = 1…8 and odd/even output sizes", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 0, max: 2 ** 31 }), (beta, l, nIn, nOut, seed) => {
      let s = seed;
      const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return BigInt(s); };
      const word = () => (rnd() << 40n) ^ (rnd() << 20n) ^ rnd();
      const inp = BigUint64Array.from({ length: nIn + 1 }, word);
      const ksk = BigUint64Array.from({ length: nIn * l * (nOut + 1) }, word);
      const ref = new Array<bigint>(nOut + 1).fill(0n);
      ref[nOut] = inp[nIn]!;
      for (let i = 0; i < nIn; i++) {
        const ds = balancedDigits(inp[i]!, beta, l);
        for (let j = 0; j < l; j++) for (let c = 0; c <= nOut; c++) ref[c] = ref[c]! - ds[j]! * ksk[(i * l + j) * (nOut + 1) + c]!;
      }
      const [pin, pk, pout] = [K.alloc(inp.length * 8), K.alloc(ksk.length * 8), K.alloc((nOut + 1) * 8)];
      try {
        K.u64(pin, inp.length).set(inp);
        K.u64(pk, ksk.length).set(ksk);
        K.k.keyswitch(pout, pin, pk, nIn, nOut, beta, l);
        assert.deepEqual(K.u64(pout, nOut + 1).slice(), BigUint64Array.from(ref, (x) => BigInt.asUintN(64, x)));
      } finally {
        [pin, pk, pout].forEach((p) => K.free(p));
      }
    }), { numRuns: 200 });
});
