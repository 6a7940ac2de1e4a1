// GLWE encryption, GGSW encryption, external product and CMux (the building blocks of blind rotation).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GlweSecretKey, encryptGlwe, decryptGlwe, glwePhase, encryptGgsw, externalProduct, cmux, PARAM_MESSAGE_4,
  externalProductVariance, fftVariance, noiseOf, FFT_NOISE_COEFFICIENT, FFT_NOISE_COEFFICIENT_MEASURED,
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

/** Mean square of the phase error of GGSW(1) ⊡ GLWE(0) over the N coefficients, with a fresh key and fresh ciphertexts. */
function productNoise(): number {
  const key = GlweSecretKey.generate(P.glweDimension, P.polynomialSize);
  const g = encryptGgsw(key, 1, shape, P.glweNoiseStd);
  const ph = glwePhase(key, externalProduct(g, encryptGlwe(key, [], enc, P.glweNoiseStd)));
  let s2 = 0;
  for (const x of ph) s2 += noiseOf(x, 0, enc) ** 2;
  return s2 / ph.length;
}

test("external product noise: between the model with the measured FFT constant and with its bound (96 independent products)", () => {
  // The coefficients of one product share its randomness (the rounding errors of one input reach every
  // coefficient through the key), so one product's mean square varies widely (coefficient of variation
  // ≈ 0.5; 8 products read 0.72–1.61 × the model). The unit of sampling is the product: R independent
  // products (fresh key, GGSW and input each), and the tolerance is 4 standard errors of their mean,
  // estimated from the products themselves.
  const R = 96;
  const xs = Float64Array.from({ length: R }, productNoise);
  const mean = xs.reduce((a, x) => a + x, 0) / R;
  const se = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (R - 1) / R);
  const shapeN = { glweDimension: 1, polynomialSize: 2048, baseLog: P.pbsBaseLog, level: P.pbsLevel };
  const model = (fftCoefficient: number) => externalProductVariance({ ...shapeN, noiseStd: P.glweNoiseStd, messageSecondMoment: 1 }) +
    fftVariance({ ...shapeN, lweDimension: 1, fftCoefficient }) + P.glweNoiseStd ** 2;
  const upper = model(FFT_NOISE_COEFFICIENT), lower = model(FFT_NOISE_COEFFICIENT_MEASURED);
  const what = `measured ${mean.toExponential(3)} ± ${se.toExponential(2)} (SE); model ${lower.toExponential(3)} (measured c) … ${upper.toExponential(3)} (bound)`;
  assert.ok(se / mean < 0.1, `too few products for the check: ${what}`);
  assert.ok(mean <= upper + 4 * se, `the model underestimates: ${what}`);
  // The measured-constant model is a fit: over 2,000 products it sat 4.6% above their mean, so a lower
  // check against it exactly failed about 3% of runs. The model may be conservative by up to 15%.
  assert.ok(mean >= lower / 1.15 - 4 * se, `the model is far above the noise: ${what}`);
});

test("CMux selects c0 for a 0 bit and c1 for a 1 bit", () => {
  const c0 = encryptGlwe(key, [1, 2, 3], enc, P.glweNoiseStd), c1 = encryptGlwe(key, [7, 8, 9], enc, P.glweNoiseStd);
  assert.deepEqual(Array.from(decryptGlwe(key, cmux(encryptGgsw(key, 0, shape, P.glweNoiseStd), c0, c1), enc)).slice(0, 3), [1, 2, 3]);
  assert.deepEqual(Array.from(decryptGlwe(key, cmux(encryptGgsw(key, 1, shape, P.glweNoiseStd), c0, c1), enc)).slice(0, 3), [7, 8, 9]);
});
