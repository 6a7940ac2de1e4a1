import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bootstrapKeyBytes, defineParameters, delta, keyswitchKeyBytes, messageModulus, NAMED_PARAMETER_SETS, parameterFingerprint,
  PARAM_MESSAGE_1, PARAM_MESSAGE_4, PARAM_MESSAGE_7, PARAM_MESSAGE_8, unsafeTestOnlyParameters,
  UNSAFE_TEST_PARAMS_SMALL, UNSAFE_TEST_PARAMS_TINY, type TfheParameters,
} from "../../src/tfhe/parameters.js";
import { checkSecurity, InsecureParametersError } from "../../src/tfhe/security.js";
import { pbsFailureProbability } from "../../src/tfhe/noise.js";

const GiB = 2 ** 30;

test("defineParameters returns a frozen canonical copy", () => {
  const input = { ...PARAM_MESSAGE_4, extra: "dropped" } as TfheParameters;
  const p = defineParameters(input);
  assert.ok(Object.isFrozen(p));
  assert.equal((p as unknown as Record<string, unknown>)["extra"], undefined);
  assert.deepEqual(p, { ...PARAM_MESSAGE_4 });
});

test("shape errors are RangeErrors naming the field", () => {
  const bad: [Partial<TfheParameters>, RegExp][] = [
    [{ polynomialSize: 3000 }, /polynomialSize/],
    [{ polynomialSize: 128 }, /polynomialSize/],
    [{ polynomialSize: 131072 }, /polynomialSize/],
    [{ glweDimension: 0 }, /glweDimension/],
    [{ lweDimension: 834.5 }, /lweDimension/],
    [{ messageBits: 0 }, /messageBits/],
    [{ carryBits: -1 }, /carryBits/],
    [{ lweNoiseStd: -1e-6 }, /lweNoiseStd/],
    [{ glweNoiseStd: NaN }, /glweNoiseStd/],
    [{ pbsBaseLog: 30, pbsLevel: 3 }, /pbsLevel/],
    [{ pbsBaseLog: 33, pbsLevel: 1 }, /pbsBaseLog/],
    [{ pbsBaseLog: 0 }, /pbsBaseLog/],
    [{ ksBaseLog: 8, ksLevel: 9 }, /ksLevel/],
    [{ name: "" }, /name/],
  ];
  for (const [patch, re] of bad) {
    const p = { ...PARAM_MESSAGE_4, ...patch } as TfheParameters;
    assert.throws(() => defineParameters(p), (e: unknown) => e instanceof RangeError && re.test(e.message), JSON.stringify(patch));
    assert.throws(() => unsafeTestOnlyParameters(p), RangeError, JSON.stringify(patch));
  }
  // p = 2^(m+c) must fit in N boxes.
  assert.throws(() => unsafeTestOnlyParameters({ ...UNSAFE_TEST_PARAMS_TINY, messageBits: 8, carryBits: 2 }), /polynomialSize/);
  assert.throws(() => defineParameters(null as unknown as TfheParameters), TypeError);
});

test("insecure parameters throw InsecureParametersError with the report", () => {
  for (const p of [
    { ...PARAM_MESSAGE_4, lweDimension: 734 },
    { ...PARAM_MESSAGE_4, lweNoiseStd: PARAM_MESSAGE_4.lweNoiseStd / 4 },
    { ...PARAM_MESSAGE_4, glweNoiseStd: PARAM_MESSAGE_4.glweNoiseStd / 4 },
  ]) {
    assert.throws(() => defineParameters(p), (e: unknown) => e instanceof InsecureParametersError && e.report.ok === false);
    assert.doesNotThrow(() => unsafeTestOnlyParameters(p));
  }
});

test("message modulus and Δ", () => {
  assert.equal(messageModulus(PARAM_MESSAGE_4), 16);
  assert.equal(delta(PARAM_MESSAGE_4), 1n << 59n);
  assert.equal(messageModulus(PARAM_MESSAGE_1), 2);
  assert.equal(delta(PARAM_MESSAGE_1), 1n << 62n);
});

test("key sizes", () => {
  assert.equal(bootstrapKeyBytes(PARAM_MESSAGE_4), 834 * 4 * 1 * 2048 * 8);
  assert.equal(keyswitchKeyBytes(PARAM_MESSAGE_4), 2048 * 5 * 835 * 8);
  assert.ok(bootstrapKeyBytes(PARAM_MESSAGE_8) > 4 * GiB, "the 8-bit set does not fit 32-bit wasm memory");
  for (const { params } of NAMED_PARAMETER_SETS) {
    if (params !== PARAM_MESSAGE_8) assert.ok(bootstrapKeyBytes(params) + keyswitchKeyBytes(params) < 3 * GiB, params.name);
  }
  assert.ok(bootstrapKeyBytes(PARAM_MESSAGE_7) < 2 * GiB);
});

// Reference FNV-1a 64 with BigInt over the documented encoding.
function referenceFingerprint(p: TfheParameters): string {
  const tag = "umbra/tfhe-params/v1";
  const bytes: number[] = [...tag].map((c) => c.charCodeAt(0));
  const dv = new DataView(new ArrayBuffer(8));
  for (const v of [p.messageBits, p.carryBits, p.lweDimension, p.glweDimension, p.polynomialSize,
    p.pbsBaseLog, p.pbsLevel, p.ksBaseLog, p.ksLevel]) {
    dv.setUint32(0, v, true);
    for (let i = 0; i < 4; i++) bytes.push(dv.getUint8(i));
  }
  for (const s of [p.lweNoiseStd, p.glweNoiseStd]) {
    dv.setFloat64(0, s, true);
    for (let i = 0; i < 8; i++) bytes.push(dv.getUint8(i));
  }
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}

const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");

test("fingerprint: 8 bytes, FNV-1a 64, name-independent", () => {
  for (const { params } of NAMED_PARAMETER_SETS) {
    const f = parameterFingerprint(params);
    assert.equal(f.length, 8);
    assert.equal(hex(f), referenceFingerprint(params), params.name);
  }
  assert.equal(hex(parameterFingerprint({ ...PARAM_MESSAGE_4, name: "other" })), hex(parameterFingerprint(PARAM_MESSAGE_4)));
  const all = new Set([...NAMED_PARAMETER_SETS.map((s) => s.params), UNSAFE_TEST_PARAMS_TINY, UNSAFE_TEST_PARAMS_SMALL]
    .map((p) => hex(parameterFingerprint(p))));
  assert.equal(all.size, NAMED_PARAMETER_SETS.length + 2);
});

test("fingerprint changes with every numeric field", () => {
  const fields = ["messageBits", "carryBits", "lweDimension", "glweDimension", "polynomialSize", "pbsBaseLog", "pbsLevel",
    "ksBaseLog", "ksLevel"] as const;
  fc.assert(fc.property(fc.constantFrom(...fields), fc.integer({ min: 1, max: 1000 }), (field, d) => {
    const changed = { ...PARAM_MESSAGE_4, [field]: PARAM_MESSAGE_4[field] + d };
    assert.notEqual(hex(parameterFingerprint(changed)), hex(parameterFingerprint(PARAM_MESSAGE_4)));
    assert.equal(hex(parameterFingerprint(changed)), referenceFingerprint(changed));
  }), { numRuns: 100 });
  const s = { ...PARAM_MESSAGE_4, lweNoiseStd: PARAM_MESSAGE_4.lweNoiseStd * (1 + 2 ** -52) };
  assert.notEqual(hex(parameterFingerprint(s)), hex(parameterFingerprint(PARAM_MESSAGE_4)));
});

test("named sets: precision, security, p_fail ≤ 2^-64 at their maxNorm2", () => {
  assert.equal(NAMED_PARAMETER_SETS.length, 8);
  NAMED_PARAMETER_SETS.forEach(({ precision, maxNorm2, params }, i) => {
    assert.equal(precision, i + 1);
    assert.equal(params.messageBits + params.carryBits, precision);
    assert.equal(params.name, `PARAM_MESSAGE_${precision}`);
    assert.ok(Object.isFrozen(params));
    assert.equal(checkSecurity(params).ok, true);
    const pf = pbsFailureProbability(params, maxNorm2);
    assert.ok(pf.log2 <= -64, `${params.name}: log2 p_fail ${pf.log2}`);
    // Looser inputs (norm 1) only help.
    assert.ok(pbsFailureProbability(params, 1).log2 <= pf.log2);
  });
});

test("unsafe test sets: insecure, but PBS practically never fails", () => {
  for (const p of [UNSAFE_TEST_PARAMS_TINY, UNSAFE_TEST_PARAMS_SMALL]) {
    assert.match(p.name, /UNSAFE/);
    assert.equal(checkSecurity(p).ok, false);
    assert.throws(() => defineParameters(p), InsecureParametersError);
    assert.ok(pbsFailureProbability(p, 9).log2 < -64, p.name);
    assert.ok(p.lweDimension >= 256 && p.lweDimension <= 400);
  }
});
