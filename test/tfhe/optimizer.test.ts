import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseParameters, estimateCost, DEFAULT_SECURITY_MARGIN_BITS } from "../../src/tfhe/optimizer.js";
import { bootstrapKeyBytes, keyswitchKeyBytes, messageModulus, NAMED_PARAMETER_SETS } from "../../src/tfhe/parameters.js";
import { checkSecurity } from "../../src/tfhe/security.js";
import { pbsFailureProbability } from "../../src/tfhe/noise.js";

const PRECISIONS = [1, 2, 3, 4, 5, 6, 7, 8];

test("every precision 1..8: secure with the default 4-bit margin (132 bits, as TFHE-rs's sets) and meets p_fail 2^-64", () => {
  assert.equal(DEFAULT_SECURITY_MARGIN_BITS, 4);
  for (const precision of PRECISIONS) {
    const p = chooseParameters({ precision });
    assert.equal(messageModulus(p), 2 ** precision);
    assert.equal(checkSecurity(p).ok, true, p.name);
    const at132 = checkSecurity(p, 132);
    assert.equal(at132.ok, true, `${p.name}: LWE ${at132.lwe.bits.toFixed(2)}, GLWE ${at132.glwe.bits.toFixed(2)} bits`);
    const pf = pbsFailureProbability(p, 1);
    assert.ok(pf.log2 <= -64, `${p.name}: ${pf.log2}`);
  }
});

test("a larger maxNorm2 is never cheaper", () => {
  for (const precision of PRECISIONS) {
    let prev = 0;
    for (const maxNorm2 of [1, 16, 256, 4096]) {
      const p = chooseParameters({ precision, maxNorm2 });
      assert.ok(pbsFailureProbability(p, maxNorm2).log2 <= -64);
      const c = estimateCost(p).total;
      assert.ok(c >= prev, `precision ${precision}, maxNorm2 ${maxNorm2}`);
      prev = c;
    }
  }
});

test("a smaller pFail is never cheaper", () => {
  for (const precision of [1, 4, 6]) {
    let prev = 0;
    for (const pFail of [2 ** -32, 2 ** -64, 2 ** -128]) {
      const p = chooseParameters({ precision, pFail });
      assert.ok(pbsFailureProbability(p, 1).log2 <= Math.log2(pFail) + 1e-9);
      const c = estimateCost(p).total;
      assert.ok(c >= prev, `precision ${precision}, pFail ${pFail}`);
      prev = c;
    }
  }
});

test("consistent with the named sets (TFHE-rs's, at 132 bits): as cheap or cheaper at the default margin, same scale", () => {
  for (const { precision, maxNorm2, params } of NAMED_PARAMETER_SETS) {
    const p = chooseParameters({ precision, maxNorm2 });
    const ratio = estimateCost(p).total / estimateCost(params).total;
    assert.ok(ratio <= 1 && ratio >= 0.5, `${params.name}: cost ratio ${ratio}`);
    const nRatio = p.polynomialSize / params.polynomialSize;
    assert.ok(nRatio >= 0.5 && nRatio <= 2, `${params.name}: N ${p.polynomialSize} vs ${params.polynomialSize}`);
  }
});

test("higher security costs at least as much and passes the requested level", () => {
  const p128 = chooseParameters({ precision: 4 });
  const p132 = chooseParameters({ precision: 4, securityBits: 132 });
  assert.ok(checkSecurity(p132, 132).ok);
  assert.ok(estimateCost(p132).total >= estimateCost(p128).total);
});

test("the security margin: σ placed at securityBits + securityMarginBits; no margin is cheaper and sits on the curve", () => {
  for (const precision of [2, 4, 6]) {
    const withMargin = chooseParameters({ precision });
    const onCurve = chooseParameters({ precision, securityMarginBits: 0 });
    const r0 = checkSecurity(onCurve);
    assert.equal(r0.ok, true);
    assert.ok(Math.abs(r0.lwe.bits - 128) < 0.01 && Math.abs(r0.glwe.bits - 128) < 0.01 || r0.glwe.bits > 128,
      `${onCurve.name}: σ on the 128-bit curve (LWE ${r0.lwe.bits}, GLWE ${r0.glwe.bits})`);
    assert.equal(checkSecurity(onCurve, 130).ok, false, `${onCurve.name} has no margin`);
    assert.ok(estimateCost(onCurve).total <= estimateCost(withMargin).total, `precision ${precision}`);
    assert.ok(Math.min(checkSecurity(withMargin, 132).lwe.bits, checkSecurity(withMargin, 132).glwe.bits) >= 132 - 1e-6);
  }
  const wide = chooseParameters({ precision: 4, securityBits: 132, securityMarginBits: 8 });
  assert.equal(checkSecurity(wide, 140).ok, true, wide.name);
  assert.equal(checkSecurity(wide, 141).ok, false, wide.name);
  assert.ok(estimateCost(wide).total >= estimateCost(chooseParameters({ precision: 4 })).total);
  assert.notEqual(wide.name, chooseParameters({ precision: 4, securityBits: 132 }).name);
  for (const bad of [-1, Number.NaN, 129]) {
    assert.throws(() => chooseParameters({ precision: 4, securityMarginBits: bad }), /securityMarginBits/, `margin ${bad}`);
  }
});

test("key-size limits are respected", () => {
  const free = chooseParameters({ precision: 8 });
  const limit = bootstrapKeyBytes(free) - 1;
  const p = chooseParameters({ precision: 8, maxBootstrapKeyBytes: limit });
  assert.ok(bootstrapKeyBytes(p) <= limit);
  assert.ok(pbsFailureProbability(p, 1).log2 <= -64);
  assert.ok(estimateCost(p).total >= estimateCost(free).total);
  const kskLimit = keyswitchKeyBytes(free) * 0.75; // at half, the 32-bit key copy leaves no feasible 8-bit set
  const q = chooseParameters({ precision: 8, maxKeyswitchKeyBytes: kskLimit });
  assert.ok(keyswitchKeyBytes(q) <= kskLimit);
  assert.ok(pbsFailureProbability(q, 1).log2 <= -64);
  assert.ok(estimateCost(q).total >= estimateCost(free).total);
  assert.throws(() => chooseParameters({ precision: 8, maxBootstrapKeyBytes: 2 ** 20 }), /BSK/);
  assert.throws(() => chooseParameters({ precision: 4, maxKeyswitchKeyBytes: 2 ** 10 }), /KSK/);
});

test("deterministic, carry split, errors", () => {
  const a = chooseParameters({ precision: 5, maxNorm2: 9 });
  const b = chooseParameters({ maxNorm2: 9, precision: 5 });
  assert.deepEqual({ ...a }, { ...b });
  const split = chooseParameters({ precision: 4, carryBits: 2 });
  assert.equal(split.messageBits, 2);
  assert.equal(split.carryBits, 2);
  assert.throws(() => chooseParameters({ precision: 0 }), /precision/);
  assert.throws(() => chooseParameters({ precision: 4, carryBits: 4 }), /carryBits/);
  assert.throws(() => chooseParameters({ precision: 4, pFail: 0 }), /pFail/);
  assert.throws(() => chooseParameters({ precision: 4, maxNorm2: -1 }), /maxNorm2/);
  assert.throws(() => chooseParameters({ precision: 4, securityBits: 80 }), /securityBits/);
  assert.throws(() => chooseParameters({ precision: 8, maxNorm2: 2 ** 40 }), RangeError);
});
