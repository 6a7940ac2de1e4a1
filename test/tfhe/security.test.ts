import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkSecurity, isSecure, minimumLog2Variance, minimumNoiseStd, securityBits, MIN_LOG2_VARIANCE, MIN_SECURE_DIMENSION,
} from "../../src/tfhe/security.js";
import { NAMED_PARAMETER_SETS, PARAM_MESSAGE_4, type TfheParameters } from "../../src/tfhe/parameters.js";

// TFHE-rs PARAM_MESSAGE_2_CARRY_2_KS_PBS_GAUSSIAN_2M64 (docs/parameters-and-security.md "Named sets").
const TFHE_RS_4BIT = { n: 834, sigmaLwe: 3.5539902359442825e-6, kN: 2048, sigmaGlwe: 2.845267479601915e-15 };

test("the 128-bit curve is TFHE-rs's fit, with its floor", () => {
  for (const n of [500, 834, 1024, 2048]) {
    const expected = Math.max(-0.05139355742296919 * n + 5.351862745098032, 2 * (2 - 64));
    assert.ok(Math.abs(minimumLog2Variance(n) - expected) < 1e-12, `n=${n}`);
    assert.ok(Math.abs(2 * Math.log2(minimumNoiseStd(n)) - expected) < 1e-9, `n=${n}`);
  }
  assert.equal(minimumLog2Variance(4096), MIN_LOG2_VARIANCE);
  assert.equal(minimumNoiseStd(65536), 2 ** -62);
});

test("the 132-bit curve is reproduced", () => {
  for (const n of [600, 900, 1200]) {
    const expected = -0.04978291316526609 * n + 5.31469187675068;
    assert.ok(Math.abs(minimumLog2Variance(n, 132) - expected) < 1e-12, `n=${n}`);
  }
});

test("TFHE-rs 4-bit set: both keys ≥ 128 bits (they sit on the 132-bit curve)", () => {
  const lwe = securityBits(TFHE_RS_4BIT.n, TFHE_RS_4BIT.sigmaLwe);
  const glwe = securityBits(TFHE_RS_4BIT.kN, TFHE_RS_4BIT.sigmaGlwe);
  assert.ok(lwe >= 128 && Math.abs(lwe - 132) < 0.1, `lwe ${lwe}`);
  assert.ok(glwe >= 128 && Math.abs(glwe - 132) < 0.1, `glwe ${glwe}`);
  const report = checkSecurity(PARAM_MESSAGE_4);
  assert.equal(report.ok, true);
  assert.equal(report.lwe.dimension, 834);
  assert.equal(report.glwe.dimension, 2048);
  assert.equal(report.requiredBits, 128);
});

test("every named set passes (TFHE-rs classic shapes)", () => {
  for (const { params } of NAMED_PARAMETER_SETS) {
    const r = checkSecurity(params);
    assert.equal(r.ok, true, params.name);
    assert.ok(r.lwe.bits >= 128 && r.glwe.bits >= 128, params.name);
  }
});

test("weakened sets are rejected: n − 100, σ/4", () => {
  const weakN: TfheParameters = { ...PARAM_MESSAGE_4, lweDimension: PARAM_MESSAGE_4.lweDimension - 100 };
  const weakSigma: TfheParameters = { ...PARAM_MESSAGE_4, lweNoiseStd: PARAM_MESSAGE_4.lweNoiseStd / 4 };
  const weakGlwe: TfheParameters = { ...PARAM_MESSAGE_4, glweNoiseStd: PARAM_MESSAGE_4.glweNoiseStd / 4 };
  for (const p of [weakN, weakSigma]) {
    const r = checkSecurity(p);
    assert.equal(r.ok, false);
    assert.equal(r.lwe.ok, false);
    assert.ok(r.lwe.bits < 128);
  }
  const r = checkSecurity(weakGlwe);
  assert.equal(r.ok, false);
  assert.equal(r.lwe.ok, true);
  assert.equal(r.glwe.ok, false);
  assert.equal(isSecure(TFHE_RS_4BIT.n - 100, TFHE_RS_4BIT.sigmaLwe), false);
  assert.equal(isSecure(TFHE_RS_4BIT.n, TFHE_RS_4BIT.sigmaLwe / 4), false);
});

test("securityBits inverts minimumNoiseStd", () => {
  for (const n of [500, 834, 1024, 2048]) {
    for (const bits of [100, 128, 132, 160]) {
      const sigma = minimumNoiseStd(n, bits);
      if (sigma === 2 ** -62) continue; // on the floor: security above `bits`
      assert.ok(Math.abs(securityBits(n, sigma) - bits) < 1e-6, `n=${n} bits=${bits}`);
      assert.equal(isSecure(n, sigma, bits), true);
    }
  }
});

test("securityBits grows with the dimension and with the noise", () => {
  fc.assert(fc.property(
    fc.integer({ min: MIN_SECURE_DIMENSION, max: 4000 }), fc.integer({ min: 1, max: 300 }),
    fc.double({ min: -55, max: -8, noNaN: true }), fc.double({ min: 0.01, max: 5, noNaN: true }),
    (n, dn, log2Sigma, dLog2) => {
      const s = 2 ** log2Sigma;
      assert.ok(securityBits(n + dn, s) >= securityBits(n, s));
      assert.ok(securityBits(n, s * 2 ** dLog2) >= securityBits(n, s));
    }), { numRuns: 200 });
});

test("outside the fit's validity: 0 bits", () => {
  assert.equal(securityBits(MIN_SECURE_DIMENSION - 1, 0.01), 0);
  assert.equal(securityBits(2048, 0), 0);
  assert.equal(securityBits(65536, 2 ** -63), 0); // below the 4-unit floor
  assert.ok(securityBits(65536, 2 ** -62) > 128);
  assert.throws(() => minimumNoiseStd(300), RangeError);
});

test("bad inputs throw RangeError naming the argument", () => {
  assert.throws(() => securityBits(0, 1e-5), /dimension/);
  assert.throws(() => securityBits(1.5, 1e-5), /dimension/);
  assert.throws(() => securityBits(800, -1), /noiseStd/);
  assert.throws(() => securityBits(800, NaN), /noiseStd/);
  assert.throws(() => minimumNoiseStd(800, 20), /bits/);
});

test("checkSecurity enforces the level asked for: every named set refused just above its own level, and at 192", () => {
  for (const { params } of NAMED_PARAMETER_SETS) {
    const at128 = checkSecurity(params, 128);
    const level = Math.min(at128.lwe.bits, at128.glwe.bits);
    assert.ok(level >= 128 && level < 192, `${params.name}: level ${level}`);
    assert.equal(checkSecurity(params, Math.floor(level)).ok, true, `${params.name} at ${Math.floor(level)} bits`);
    for (const bits of [level + 0.5, Math.ceil(level) + 1, 160, 192, 256]) {
      if (bits > 256) continue;
      const r = checkSecurity(params, bits);
      assert.equal(r.requiredBits, bits);
      assert.equal(r.ok, false, `${params.name} passed checkSecurity(p, ${bits}) at ${level.toFixed(2)} bits`);
      // Each key is judged against the required level, not against 128.
      assert.equal(r.lwe.ok, r.lwe.bits >= bits, `${params.name} LWE at ${bits}`);
      assert.equal(r.glwe.ok, r.glwe.bits >= bits, `${params.name} GLWE at ${bits}`);
    }
    assert.equal(isSecure(params.lweDimension, params.lweNoiseStd, 192), false, params.name);
  }
});
