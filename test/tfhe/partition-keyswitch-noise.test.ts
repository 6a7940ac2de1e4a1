// Key switches between two parameter sets' keys (multi-parameter circuits, compiler/partitions.ts): the big
// key of one set to the small key of a real 1-bit set (its PBS input) and to the big key of a real 4-bit
// set (a conversion, k·N = 2048). The measured variance must match keyswitchVariance (with the server's
// 32-bit key copy), averaged over keys, as the single-set key switch test does (noise-measured.test.ts).
// The input set is the test-only tiny one (k·N = 512, almost no fresh noise, so the key switch dominates):
// a key switch costs k·N_in·l·(n_out + 1) multiply-adds per value, and the formula does not depend on
// which set the input key comes from.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chooseParameters, ClientKey, generateKeyswitchKey, KernelKeyswitchKey, keyswitchVariance, lwePhases, noiseOf, PARAM_MESSAGE_2,
  pbsKeyswitchVariance, type TfheParameters, UNSAFE_TEST_PARAMS_TINY,
} from "../../src/tfhe/index.js";
import { chooseKeyswitch } from "../../src/compiler/partitions.js";

function variance(xs: ArrayLike<number>): number {
  let s = 0, s2 = 0;
  for (let i = 0; i < xs.length; i++) { s += xs[i]!; s2 += xs[i]! * xs[i]!; }
  const m = s / xs.length;
  return (s2 - xs.length * m * m) / (xs.length - 1);
}

/** Mean over KEYS key pairs of the measured variance after the switch, and of the model for each key. */
interface Measured { measured: number; model: number; rows: number; samples: number; keys: number }

function measure(from: TfheParameters, to: TfheParameters, target: "small" | "big", SAMPLES: number, KEYS: number): Measured {
  const kNa = from.glweDimension * from.polynomialSize;
  const outDim = target === "small" ? to.lweDimension : to.glweDimension * to.polynomialSize;
  const sigma = target === "small" ? to.lweNoiseStd : to.glweNoiseStd;
  const ks = target === "small"
    ? chooseKeyswitch(kNa, outDim, sigma, pbsKeyswitchVariance(to))
    : chooseKeyswitch(kNa, outDim, sigma, 2 ** -40);
  const shape = { inputDimension: kNa, baseLog: ks.baseLog, level: ks.levels };
  assert.equal(ks.variance, keyswitchVariance({ ...shape, noiseStd: sigma, outputDimension: outDim }));
  const rounding = keyswitchVariance({ ...shape, noiseStd: 0 });
  let sum = 0, modelSum = 0;
  for (let k = 0; k < KEYS; k++) {
    const a = ClientKey.generate(from), b = ClientKey.generate(to);
    const outKey = target === "small" ? b.lweKey : b.bigKey;
    const key = KernelKeyswitchKey.fromStandard(generateKeyswitchKey(a.bigKey, outKey, ks.baseLog, ks.levels, sigma));
    try {
      const m = Array.from({ length: SAMPLES }, (_, i) => i % 4);
      const enc = { bits: 2 };
      const out = key.apply(a.encrypt(m, enc));
      assert.equal(out.dimension, outDim);
      const phases = lwePhases(outKey, out);
      sum += variance(Float64Array.from(phases, (ph, i) => noiseOf(ph, m[i]!, enc)));
      // The rounding term reaches the phase through the input key's ones (h of kN, E = kN/2 in the model).
      const h = a.bigKey.words().reduce((s, w) => s + Number(w), 0);
      modelSum += from.glweNoiseStd ** 2 + ks.variance - rounding + rounding * (h / (kNa / 2));
    } finally {
      key.free();
    }
  }
  return { measured: sum / KEYS, model: modelSum / KEYS, rows: kNa * ks.levels, samples: SAMPLES, keys: KEYS };
}

function assertWithinModel(r: Measured, what: string): void {
  // Sample-variance spread and the key-to-key spread of Σ_rows e² (relative std √(2/rows)), 5 σ.
  const tol = 5 * Math.sqrt((2 / (r.samples - 1) + 2 / r.rows) / r.keys);
  const ratio = r.measured / r.model;
  assert.ok(Math.abs(ratio - 1) <= tol, `${what}: measured ${r.measured.toExponential(3)}, model ${r.model.toExponential(3)} (ratio ${ratio.toFixed(3)}, ±${tol.toFixed(3)})`);
}

const oneBit = chooseParameters({ precision: 1 });

test("cross-partition key switch: big key of one set → small key of a real 1-bit set, variance as modelled", () => {
  assertWithinModel(measure(UNSAFE_TEST_PARAMS_TINY, oneBit, "small", 2048, 2), "big_A → small_B");
});

test("conversion key: big key of one set → big key of a real 4-bit set (k·N = 2048), variance as modelled", () => {
  assertWithinModel(measure(UNSAFE_TEST_PARAMS_TINY, PARAM_MESSAGE_2, "big", 1024, 2), "big_B → big_A");
});
