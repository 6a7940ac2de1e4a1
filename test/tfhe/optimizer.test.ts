import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseParameters, estimateCost } from "../../src/tfhe/optimizer.js";
import { bootstrapKeyBytes, keyswitchKeyBytes, messageModulus, NAMED_PARAMETER_SETS } from "../../src/tfhe/parameters.js";
import { checkSecurity } from "../../src/tfhe/security.js";
import { pbsFailureProbability } from "../../src/tfhe/noise.js";

const PRECISIONS = [1, 2, 3, 4, 5, 6, 7, 8];

test("every precision 1..8: secure and meets p_fail 2^-64", () => {
  for (const precision of PRECISIONS) {
    const p = chooseParameters({ precision });
    assert.equal(messageModulus(p), 2 ** precision);
    assert.equal(checkSecurity(p).ok, true, p.name);
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

test("consistent with the named sets: as cheap or cheaper, same scale", () => {
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
