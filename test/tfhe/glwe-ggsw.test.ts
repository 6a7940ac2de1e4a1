// GLWE encryption, GGSW encryption, external product and CMux (the building blocks of blind rotation).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GlweSecretKey, encryptGlwe, decryptGlwe, glwePhase, encryptGgsw, externalProduct, cmux, PARAM_MESSAGE_4,
  externalProductVariance, fftVariance, noiseOf,
} from "../../src/tfhe/index.js";

const P = PARAM_MESSAGE_4;
const key = GlweSecretKey.generate(P.glweDimension, P.polynomialSize);
const enc = { bits: 4 };
const shape = { glweDimension: 1, polynomialSize: 2048, baseLog: P.pbsBaseLog, levels: P.pbsLevel };
const poly = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 64 });
const pad = (m: number[]) => [...m, ...new Array<number>(2048 - m.length).fill(0)];

test("GLWE encrypt / decrypt (real parameters)", () => {
  fc.assert(fc.property(poly, (m) => {
    assert.deepEqual(Array.from(decryptGlwe(key, encryptGlwe(key, m, enc, P.glweNoiseStd), enc)), pad(m));
  }), { numRuns: 10 });
});

test("external product GGSW(m) ⊡ GLWE(μ) = GLWE(m·μ) for m ∈ {0, 1, 2, −1}", () => {
  for (const m of [0, 1, 2, -1]) {
    const g = encryptGgsw(key, m, shape, P.glweNoiseStd);
    const mu = [3, 1, 4, 1, 5, 9, 2, 6];
    const out = decryptGlwe(key, externalProduct(g, encryptGlwe(key, mu, enc, P.glweNoiseStd)), enc);
    assert.deepEqual(Array.from(out), pad(mu.map((x) => (((m * x) % 16) + 16) % 16)), `m = ${m}`);
  }
});

test("external product noise matches externalProductVariance + FFT term (8 × 2048 coefficients, ±25%)", () => {
  let s2 = 0, count = 0;
  for (let r = 0; r < 8; r++) {
    const g = encryptGgsw(key, 1, shape, P.glweNoiseStd);
    const ph = glwePhase(key, externalProduct(g, encryptGlwe(key, [], enc, P.glweNoiseStd)));
    for (const x of ph) { s2 += noiseOf(x, 0, enc) ** 2; count++; }
  }
  const measured = s2 / count;
  const shapeN = { glweDimension: 1, polynomialSize: 2048, baseLog: P.pbsBaseLog, level: P.pbsLevel };
  const model = externalProductVariance({ ...shapeN, noiseStd: P.glweNoiseStd, messageSecondMoment: 1 }) +
    fftVariance({ ...shapeN, lweDimension: 1 }) + P.glweNoiseStd ** 2;
  // Coefficients of one product are correlated through the key, so independent products are averaged.
  assert.ok(Math.abs(measured / model - 1) < 0.25, `measured ${measured.toExponential(3)} vs model ${model.toExponential(3)}`);
});

test("CMux selects c0 for a 0 bit and c1 for a 1 bit", () => {
  const c0 = encryptGlwe(key, [1, 2, 3], enc, P.glweNoiseStd), c1 = encryptGlwe(key, [7, 8, 9], enc, P.glweNoiseStd);
  assert.deepEqual(Array.from(decryptGlwe(key, cmux(encryptGgsw(key, 0, shape, P.glweNoiseStd), c0, c1), enc)).slice(0, 3), [1, 2, 3]);
  assert.deepEqual(Array.from(decryptGlwe(key, cmux(encryptGgsw(key, 1, shape, P.glweNoiseStd), c0, c1), enc)).slice(0, 3), [7, 8, 9]);
});
