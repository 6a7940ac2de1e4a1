// The noise of a generated bootstrapping key, measured directly: every GGSW row is a GLWE encryption (of
// −sᵢ·g_j·S_p for p < k, of sᵢ·g_j for p = k, g_j = q/B^j; see bootstrap-key.ts), so its phase under the GLWE
// key minus that message is the row's fresh Gaussian noise, of variance exactly σ_glwe² (+ 1/12 unit² from
// rounding, 2^-131 here). A key generated without noise — recoverable by linear algebra — or with another
// σ fails. Tolerance ±7%: ≥ 20,000 coefficients put the estimator's relative std √(2/M) at ≤ 1%, so the
// band is ≥ 7 of its standard deviations.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClientKey, GlweCiphertext, PARAM_MESSAGE_2, UNSAFE_TEST_PARAMS_TINY, glwePhase, type TfheParameters,
} from "../../src/tfhe/index.js";

/** Noise (fractions of q) of every coefficient of every row of `ggsws` GGSWs spread over the key. */
function bootstrapKeyRowNoise(params: TfheParameters, ggsws: number): Float64Array {
  const client = ClientKey.generate(params);
  const bsk = client.evaluationKeys().bootstrapKey;
  const { glweDimension: k, polynomialSize: N, pbsBaseLog: beta, pbsLevel: l, lweDimension: n } = params;
  const S = client.glweKey;
  const ggswWords = (k + 1) * l * (k + 1) * N;
  const out: number[] = [];
  for (let t = 0; t < ggsws; t++) {
    const i = Math.floor((t * n) / ggsws);
    const s = BigInt(client.lweKey.bits[i]!);
    for (let p = 0; p <= k; p++) {
      for (let j = 0; j < l; j++) {
        const off = i * ggswWords + (p * l + j) * (k + 1) * N;
        const phase = glwePhase(S, new GlweCiphertext(k, N, bsk.data.slice(off, off + (k + 1) * N)));
        const g = 1n << BigInt(64 - beta * (j + 1));
        for (let c = 0; c < N; c++) {
          const message = p < k ? -s * g * BigInt(S.polynomial(p)[c]!) : c === 0 ? s * g : 0n;
          out.push(Number(BigInt.asIntN(64, phase[c]! - BigInt.asUintN(64, message))) / 2 ** 64);
        }
      }
    }
  }
  return Float64Array.from(out);
}

function assertNoiseVariance(params: TfheParameters, ggsws: number): void {
  const e = bootstrapKeyRowNoise(params, ggsws);
  assert.ok(e.length >= 20_000, `${e.length} samples`);
  let s = 0, s2 = 0;
  for (const x of e) { s += x; s2 += x * x; }
  const variance = s2 / e.length; // the mean is known (0): no degree of freedom lost
  const model = params.glweNoiseStd ** 2;
  const ratio = variance / model;
  assert.ok(Math.abs(ratio - 1) <= 0.07,
    `${params.name}: GGSW row noise variance ${variance.toExponential(3)} vs σ_glwe² = ${model.toExponential(3)} (ratio ${ratio.toFixed(4)})`);
  assert.ok(Math.abs(s / e.length) <= 5 * params.glweNoiseStd / Math.sqrt(e.length), `${params.name}: noise mean ${s / e.length}`);
}

test("bootstrapping key rows carry σ_glwe² of noise (test parameters, 32 GGSWs)", () => {
  assertNoiseVariance(UNSAFE_TEST_PARAMS_TINY, 32);
});

test("bootstrapping key rows carry σ_glwe² of noise (PARAM_MESSAGE_2, 8 GGSWs)", () => {
  assertNoiseVariance(PARAM_MESSAGE_2, 8);
});
