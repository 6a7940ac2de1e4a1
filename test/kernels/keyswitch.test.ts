// The key-switch kernels against a BigInt reference: out = (0,…,0,b) − Σ_i Σ_j d_{i,j}·KSK_{i,j} with the
// balanced digits d of each input coefficient and every KSK word rounded to its top 32 bits (the server's
// form of the key), on random words (the arithmetic, not the cryptography).
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
      const hi = (x: bigint) => ((x + (1n << 31n)) >> 32n) & 0xffffffffn;
      const acc = new Array<bigint>(nOut + 1).fill(0n);
      for (let i = 0; i < nIn; i++) {
        const ds = balancedDigits(inp[i]!, beta, l);
        for (let j = 0; j < l; j++) for (let c = 0; c <= nOut; c++) acc[c] = acc[c]! - ds[j]! * hi(ksk[(i * l + j) * (nOut + 1) + c]!);
      }
      const ref = acc.map((a, c) => BigInt.asUintN(64, (BigInt.asUintN(32, a) << 32n) + (c === nOut ? inp[nIn]! : 0n)));
      const rowWords = K.k.keyswitchRowWords32(nOut);
      assert.equal(rowWords % 4, 0);
      const [pin, pk, pk32, pacc, pout, pdig] = [K.alloc(inp.length * 8), K.alloc(ksk.length * 8), K.alloc(nIn * l * rowWords * 4), K.alloc(rowWords * 4), K.alloc((nOut + 1) * 8), K.alloc(l * 4)];
      try {
        K.u64(pin, inp.length).set(inp);
        K.u64(pk, ksk.length).set(ksk);
        K.k.keyswitchKeyTo32(pk32, pk, nIn * l, nOut);
        K.k.keyswitchInit32(pacc, nOut);
        // In two ranges, as a key split into blocks is processed.
        const mid = nIn >> 1;
        K.k.keyswitchRange32(pacc, pin, 1, nIn, pk32, 0, mid, nOut, beta, l, pdig);
        K.k.keyswitchRange32(pacc, pin, 1, nIn, pk32 + mid * l * rowWords * 4, mid, nIn, nOut, beta, l, pdig);
        K.k.keyswitchFinish32(pout, pacc, pin, nIn, nOut);
        assert.deepEqual(K.u64(pout, nOut + 1).slice(), BigUint64Array.from(ref));
      } finally {
        [pin, pk, pk32, pacc, pout, pdig].forEach((p) => K.free(p));
      }
    }), { numRuns: 200 });
});

test("keyswitch kernel on a batch: each of `count` ciphertexts equals its own key switch (bit-identical)", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 }), (beta, l, nIn, nOut, count, seed) => {
      let s = seed;
      const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return BigInt(s); };
      const word = () => (rnd() << 40n) ^ (rnd() << 20n) ^ rnd();
      const inp = BigUint64Array.from({ length: count * (nIn + 1) }, word);
      const ksk = BigUint64Array.from({ length: nIn * l * (nOut + 1) }, word);
      const rowWords = K.k.keyswitchRowWords32(nOut);
      const [pin, pk, pk32, pacc, pout, pdig, pone] = [K.alloc(inp.length * 8), K.alloc(ksk.length * 8), K.alloc(nIn * l * rowWords * 4),
        K.alloc(count * rowWords * 4), K.alloc(count * (nOut + 1) * 8), K.alloc(count * l * 4), K.alloc((nOut + 1) * 8)];
      try {
        K.u64(pin, inp.length).set(inp);
        K.u64(pk, ksk.length).set(ksk);
        K.k.keyswitchKeyTo32(pk32, pk, nIn * l, nOut);
        for (let c = 0; c < count; c++) K.k.keyswitchInit32(pacc + c * rowWords * 4, nOut);
        const mid = nIn >> 1; // two ranges, as a key split into blocks
        K.k.keyswitchRange32(pacc, pin, count, nIn, pk32, 0, mid, nOut, beta, l, pdig);
        K.k.keyswitchRange32(pacc, pin, count, nIn, pk32 + mid * l * rowWords * 4, mid, nIn, nOut, beta, l, pdig);
        for (let c = 0; c < count; c++) {
          K.k.keyswitchFinish32(pout + c * (nOut + 1) * 8, pacc + c * rowWords * 4, pin + c * (nIn + 1) * 8, nIn, nOut);
          // The single-ciphertext kernel on the same input (its accumulator reused).
          K.k.keyswitchInit32(pacc, nOut);
          K.k.keyswitchRange32(pacc, pin + c * (nIn + 1) * 8, 1, nIn, pk32, 0, nIn, nOut, beta, l, pdig);
          K.k.keyswitchFinish32(pone, pacc, pin + c * (nIn + 1) * 8, nIn, nOut);
          assert.deepEqual(K.u64(pout + c * (nOut + 1) * 8, nOut + 1).slice(), K.u64(pone, nOut + 1).slice(), `ciphertext ${c} of ${count}`);
        }
      } finally {
        [pin, pk, pk32, pacc, pout, pdig, pone].forEach((p) => K.free(p));
      }
    }), { numRuns: 200 });
});
