// Multi-bit blind rotation (grouping factor 2 and 3): parameter sets, exhaustive lookups at real
// parameters, batched/streamed paths, seeded serialization, and the noise model's multi-bit terms against
// measurement (modulus switch, PBS output, failure rate at a noisy setting).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClientKey, chooseParameters, estimateCost, estimateLatency, MULTI_BIT_GGSW_FRACTION, LookupTable, PbsWorkerPool, LweBatch, MULTI_BIT_PARAMETER_SETS, PARAM_MESSAGE_2_MULTI_BIT_3, PARAM_MESSAGE_4,
  PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3, ServerKey, UNSAFE_TEST_PARAMS_TINY, bootstrapKeyBytes,
  defineParameters, deserializeEvaluationKeys, deserializeParameters, groupingFactor, lookupTable, modulusSwitchVariance,
  parameterFingerprint, pbsFailureProbability, pbsKeyswitchVariance, pbsKind, pbsModulusSwitchVariance, pbsOutputVariance,
  pFail, serialize, unsafeTestOnlyParameters, externalProductVariance, fftVariance, multiBitKeyFactor,
  FFT_NOISE_COEFFICIENT, FFT_NOISE_COEFFICIENT_MEASURED, type Encoding, type TfheParameters,
} from "../../src/tfhe/index.js";
import { kernels } from "../../src/kernels/wasm.js";
import { checkFailureRate } from "../helpers/failure-rate.js";
import { keysFor, testRng } from "../helpers/keys.js";

test("multi-bit sets: 128-bit secure (defineParameters), the kind on the object, p_fail ≤ 2^-64 by the model at their maxNorm2", () => {
  for (const { params, maxNorm2, precision } of MULTI_BIT_PARAMETER_SETS) {
    assert.equal(pbsKind(params), "multi-bit");
    assert.ok(groupingFactor(params) === 2 || groupingFactor(params) === 3);
    assert.equal(params.messageBits + params.carryBits, precision);
    assert.equal(params.lweDimension % groupingFactor(params), 0);
    assert.deepEqual(defineParameters(params), params); // re-runs the security check
    const log2 = pbsFailureProbability(params, maxNorm2).log2;
    assert.ok(log2 <= -64, `${params.name}: log2 p_fail = ${log2.toFixed(2)} at maxNorm2 ${maxNorm2}`);
  }
  assert.equal(pbsKind(PARAM_MESSAGE_4), "classic");
  assert.equal("groupingFactor" in PARAM_MESSAGE_4, false);
  // The key holds n/d·(2^d − 1) GGSWs.
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsLevel: l } = PARAM_MESSAGE_4_MULTI_BIT_3;
  assert.equal(bootstrapKeyBytes(PARAM_MESSAGE_4_MULTI_BIT_3), (n / 3) * 7 * (k + 1) ** 2 * l * N * 8);
});

test("grouping factor: validated, part of the fingerprint only for multi-bit sets", () => {
  const base = { ...PARAM_MESSAGE_4_MULTI_BIT_2, name: "x" };
  assert.throws(() => unsafeTestOnlyParameters({ ...base, groupingFactor: 4 }), /groupingFactor must be an integer in \[1, 3\], got 4/);
  assert.throws(() => unsafeTestOnlyParameters({ ...base, groupingFactor: 3, lweDimension: 890 }), /multiple of groupingFactor 3, got 890/);
  const classic = unsafeTestOnlyParameters({ ...base, groupingFactor: 1 });
  assert.equal("groupingFactor" in classic, false);
  assert.deepEqual(parameterFingerprint(classic), parameterFingerprint(unsafeTestOnlyParameters({ ...base, groupingFactor: undefined })));
  assert.notDeepEqual(parameterFingerprint(classic), parameterFingerprint(PARAM_MESSAGE_4_MULTI_BIT_2));
  // Serialized: the classic encoding has a plain name length; multi-bit round-trips its factor.
  const back = deserializeParameters(serialize(PARAM_MESSAGE_4_MULTI_BIT_3));
  assert.deepEqual(back, PARAM_MESSAGE_4_MULTI_BIT_3);
  assert.deepEqual(deserializeParameters(serialize(PARAM_MESSAGE_4)), PARAM_MESSAGE_4);
});

function exhaustive(params: TfheParameters, fs: readonly ((x: number) => number)[]): void {
  const { client, server } = keysFor(params);
  const p = 2 ** (params.messageBits + params.carryBits);
  const xs = Array.from({ length: p }, (_, i) => i);
  const ct = client.encrypt(xs);
  for (const f of fs) {
    assert.deepEqual(Array.from(client.decrypt(server.apply(ct, f))), xs.map((x) => ((f(x) % p) + p) % p), `${params.name}: ${f.toString()}`);
  }
}

test("exhaustive lookups at PARAM_MESSAGE_4_MULTI_BIT_2 and _3 (every input, three tables)", () => {
  const fs = [(x: number) => x, (x: number) => (x * x + 3) % 16, (x: number) => 15 - x];
  exhaustive(PARAM_MESSAGE_4_MULTI_BIT_2, fs);
  exhaustive(PARAM_MESSAGE_4_MULTI_BIT_3, fs);
});

test("exhaustive lookups at PARAM_MESSAGE_2_MULTI_BIT_3 (k = 2, N = 1024)", () => {
  exhaustive(PARAM_MESSAGE_2_MULTI_BIT_3, [(x) => x, (x) => 3 - x, (x) => (x * 3 + 1) % 4]);
});

test("multi-bit: a batch equals single PBS, streamed keys equal resident keys, seeded upload round-trips", () => {
  const params = PARAM_MESSAGE_4_MULTI_BIT_3;
  const { client } = keysFor(params);
  const keys = client.evaluationKeys();
  const resident = new ServerKey(keys);
  const streamed = new ServerKey(keys, { residentKeyBytes: 0 });
  const uploaded = new ServerKey(deserializeEvaluationKeys(serialize(keys), params));
  try {
    assert.equal(streamed.bsk.resident, false);
    const xs = [0, 5, 9, 15, 3, 3, 12, 7, 1, 10];
    const ct = client.encrypt(xs);
    const lut = resident.lookupTable((x) => (7 * x + 2) % 16);
    const batched = resident.bootstrap(ct, lut);
    assert.deepEqual(Array.from(client.decrypt(batched)), xs.map((x) => (7 * x + 2) % 16));
    for (let c = 0; c < xs.length; c += 4) {
      const one = new LweBatch(ct.dimension, 1, ct.data.slice(c * ct.size, (c + 1) * ct.size), ct.encoding, ct.bounds);
      assert.deepEqual(resident.bootstrap(one, lut).data, batched.data.subarray(c * ct.size, (c + 1) * ct.size));
    }
    assert.deepEqual(streamed.bootstrap(ct, lut).data, batched.data);
    assert.deepEqual(uploaded.bootstrap(ct, lut).data, batched.data);
  } finally {
    resident.free(); streamed.free(); uploaded.free();
  }
});

test("grouped modulus switch: kernel output and measured rounding variance ((n/d)·(1 − 2^-d) + 1)/(12·(2N)²)", () => {
  const K = kernels();
  const rng = testRng(11);
  const word = (): bigint => (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  for (const d of [2, 3]) {
    const n = 96 * d, N = 1024, twoN = 2 * N, P = 2 ** d - 1;
    const bits = Array.from({ length: n }, () => (rng() < 0.5 ? 1 : 0));
    const lwe = K.alloc((n + 1) * 8), out = K.alloc(((n / d) * P + 1) * 4);
    const samples = 4000;
    let s2 = 0, nonzero = 0;
    for (let g = 0; g < n; g += d) if (bits.slice(g, g + d).some((b) => b === 1)) nonzero++;
    try {
      for (let t = 0; t < samples; t++) {
        const a = Array.from({ length: n + 1 }, word);
        K.u64(lwe, n + 1).set(a);
        K.k.multiBitModulusSwitch(out, lwe, n, d, N);
        const m = K.i32(out, (n / d) * P + 1);
        // The rotation the blind rotation applies, −b̃ + Σ_g m_{p*_g}, against the exact phase·2N/q.
        let rot = -m[(n / d) * P]!;
        let exact = -Number(a[n]! >> 11n) / 2 ** 53;
        for (let g = 0; g < n / d; g++) {
          let pat = 0, sum = 0n;
          for (let j = 0; j < d; j++) if (bits[g * d + j]) { pat |= 1 << j; sum += a[g * d + j]!; }
          if (pat !== 0) {
            rot += m[g * P + pat - 1]!;
            assert.equal(m[g * P + pat - 1], Number(((BigInt.asUintN(64, sum) + (1n << 52n)) >> 53n) % BigInt(twoN)));
          }
          exact += Number(BigInt.asUintN(64, sum) >> 11n) / 2 ** 53;
        }
        // Error in units of 1/(2N), reduced to (−N, N].
        let e = (rot - exact * twoN) % twoN;
        if (e > N) e -= twoN;
        if (e <= -N) e += twoN;
        s2 += e * e;
      }
    } finally {
      K.free(lwe); K.free(out);
    }
    const measured = s2 / samples / (twoN * twoN);
    // The model with this key's share of non-zero groups (1 − 2^-d on average).
    const model = (nonzero + 1) / (12 * twoN * twoN);
    assert.ok(Math.abs(modulusSwitchVariance({ lweDimension: n, polynomialSize: N, groupingFactor: d }) /
      (((n / d) * (1 - 2 ** -d) + 1) / (12 * twoN * twoN)) - 1) < 1e-12);
    const tol = 5 * Math.sqrt(2 / samples);
    assert.ok(Math.abs(measured / model - 1) < tol, `d = ${d}: measured ${measured.toExponential(3)} vs model ${model.toExponential(3)}`);
  }
});

/** Distance (fraction of q) from a phase to the closest multiple of Δ, padding bit included. */
function residue(phase: bigint, enc: Encoding): number {
  const delta = 1n << BigInt(63 - enc.bits);
  let r = phase & (delta - 1n);
  if (r >= delta >> 1n) r -= delta;
  return Number(r) / 2 ** 64;
}

/**
 * The multi-bit PBS output model for one key: the rounding and FFT terms reach the phase through the
 * h_glwe ones of the GLWE key (1 + h_glwe instead of 1 + kN/2), the rounding term only in groups whose bits
 * are not all 0 (z of the n/d).
 */
function keyedMultiBitModel(params: TfheParameters, z: number, hGlwe: number, fftCoefficient: number): number {
  const { lweDimension: n, glweDimension: k, polynomialSize: N } = params;
  const d = groupingFactor(params);
  const shape = { glweDimension: k, polynomialSize: N, baseLog: params.pbsBaseLog, level: params.pbsLevel };
  const keyTerm = externalProductVariance({ ...shape, noiseStd: params.glweNoiseStd, messageSecondMoment: 0 });
  const rounding = externalProductVariance({ ...shape, noiseStd: 0, messageSecondMoment: 2 }) / (1 + (k * N) / 2);
  const fft = fftVariance({ ...shape, lweDimension: n, fftCoefficient, groupingFactor: d }) / (1 + (k * N) / 2);
  return (n / d) * multiBitKeyFactor(d) * keyTerm + z * (1 + hGlwe) * rounding + (1 + hGlwe) * fft;
}

test("multi-bit PBS output: the model bounds the measured variance (PARAM_MESSAGE_4_MULTI_BIT_2 and _3, 96 rotations each)", () => {
  for (const params of [PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3]) {
    const { client, server } = keysFor(params);
    const { lweDimension: n, glweDimension: k, polynomialSize: N } = params;
    const d = groupingFactor(params);
    const enc = server.encoding;
    const stride = 64, rounds = 96;
    const base = lookupTable(() => 3, { inputEncoding: enc, polynomialSize: N });
    const some = new LookupTable(base.polynomial, enc, enc, Array.from({ length: N / stride }, (_, j) => j * stride));
    const xs = new Float64Array(rounds);
    for (let r = 0; r < rounds; r++) {
      const outs = server.bootstrapMany(client.encrypt([r % 16]), some);
      let s2 = 0;
      for (const b of outs) s2 += residue(client.phases(b)[0]!, enc) ** 2;
      xs[r] = s2 / outs.length;
    }
    const mean = xs.reduce((a, x) => a + x, 0) / rounds;
    const se = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (rounds - 1) / rounds);
    const bits = client.lweKey.bits;
    let z = 0;
    for (let g = 0; g < n; g += d) if (bits.subarray(g, g + d).some((b) => b === 1)) z++;
    const hGlwe = client.glweKey.asLweKey().bits.reduce((a, b) => a + b, 0);
    // With z = (n/d)(1 − 2^-d) and h = kN/2 the keyed model is pbsOutputVariance.
    assert.ok(Math.abs(keyedMultiBitModel(params, (n / d) * (1 - 2 ** -d), (k * N) / 2, FFT_NOISE_COEFFICIENT) / pbsOutputVariance(params) - 1) < 1e-12);
    const upper = keyedMultiBitModel(params, z, hGlwe, FFT_NOISE_COEFFICIENT);
    const lower = keyedMultiBitModel(params, z, hGlwe, FFT_NOISE_COEFFICIENT_MEASURED);
    const what = `${params.name}: measured ${mean.toExponential(3)} ± ${se.toExponential(2)}, model ${lower.toExponential(3)} … ${upper.toExponential(3)} ` +
      `(ratio to the bound ${(mean / upper).toFixed(3)})`;
    console.log(`# ${what}`);
    assert.ok(se / mean < 0.15, `too few rotations: ${what}`);
    assert.ok(mean <= upper * 1.1 + 4 * se, `the model underestimates the multi-bit PBS output noise: ${what}`);
    assert.ok(mean >= lower * 0.75 - 4 * se, `the model is far above the measured noise: ${what}`);
  }
});

test("multi-bit failure rate at a deliberately noisy setting matches the predicted probability (d = 2, 3)", () => {
  for (const [d, n] of [[2, 256], [3, 255]] as const) {
    const noisy = unsafeTestOnlyParameters({
      ...UNSAFE_TEST_PARAMS_TINY, name: `UNSAFE_TEST_PARAMS_NOISY_MB${d}`, lweDimension: n, lweNoiseStd: 2 ** -12.4, groupingFactor: d,
    });
    checkFailureRate(noisy, 7 + d, `d = ${d}`);
  }
});

test("optimizer: classic vs multi-bit by estimateCost (groupingFactors), each choice meeting p_fail by the model", () => {
  for (const [precision, maxNorm2] of [[2, 9], [4, 25], [6, 3969]] as const) {
    const classic = chooseParameters({ precision, maxNorm2 });
    assert.equal(pbsKind(classic), "classic");
    const any = chooseParameters({ precision, maxNorm2, groupingFactors: [1, 2, 3] });
    assert.ok(estimateCost(any).total <= estimateCost(classic).total, `${precision} bits`);
    for (const d of [2, 3]) {
      const mb = chooseParameters({ precision, maxNorm2, groupingFactors: [d] });
      assert.equal(groupingFactor(mb), d);
      assert.ok(pbsFailureProbability(mb, maxNorm2).log2 <= -64, `${mb.name}: p_fail`);
      assert.deepEqual(defineParameters(mb), mb);
      assert.ok(estimateCost(any).total <= estimateCost(mb).total);
    }
    assert.ok(pbsFailureProbability(any, maxNorm2).log2 <= -64);
  }
  // At 4 bits the calibrated cost favours d = 2 (measured: 0.91× classic per PBS in a batch of 8).
  assert.equal(groupingFactor(chooseParameters({ precision: 4, maxNorm2: 25, groupingFactors: [1, 2, 3] })), 2);
  assert.throws(() => chooseParameters({ precision: 4, groupingFactors: [4] }), /groupingFactors must be a non-empty array of integers in \[1, 3\], got \[4\]/);
  assert.throws(() => chooseParameters({ precision: 4, groupingFactors: [] }), /groupingFactors/);
});

test("estimateLatency: a multi-bit set costs n/d steps of one CMux plus 2^d − 1 GGSW combinations", () => {
  const classic = unsafeTestOnlyParameters({ ...PARAM_MESSAGE_4_MULTI_BIT_2, name: "classic-888", groupingFactor: 1 });
  for (const [p, d] of [[PARAM_MESSAGE_4_MULTI_BIT_2, 2], [unsafeTestOnlyParameters({ ...PARAM_MESSAGE_4_MULTI_BIT_2, name: "mb3-888", groupingFactor: 3 }), 3]] as const) {
    const c = estimateLatency(classic), m = estimateLatency(p);
    assert.equal(m.keyswitchMs, c.keyswitchMs);
    assert.ok(Math.abs(m.blindRotationMs / (c.blindRotationMs / d * (1 + MULTI_BIT_GGSW_FRACTION * (2 ** d - 1))) - 1) < 1e-12);
  }
});

test("PbsWorkerPool with multi-bit keys (test-only d = 2 set): the same outputs as ServerKey", async () => {
  const params = unsafeTestOnlyParameters({ ...UNSAFE_TEST_PARAMS_TINY, name: "UNSAFE_TEST_PARAMS_TINY_MB2", groupingFactor: 2 });
  const client = ClientKey.generate(params);
  const keys = client.evaluationKeys();
  const server = new ServerKey(keys);
  const pool = await PbsWorkerPool.create(keys, { threads: 2 });
  try {
    const xs = [0, 1, 2, 3, 3, 2, 1, 0, 2];
    const ct = client.encrypt(xs);
    const lut = server.lookupTable((x) => (x + 1) % 4);
    const viaPool = await pool.bootstrap(ct, lut);
    assert.deepEqual(viaPool.data, server.bootstrap(ct, lut).data);
    assert.deepEqual(Array.from(client.decrypt(viaPool)), xs.map((x) => (x + 1) % 4));
  } finally {
    await pool.close();
    server.free();
  }
});
