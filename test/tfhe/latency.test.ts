// The latency model (latency.ts) reproduces the benchmark medians it was fitted to (BENCHMARKS.md at
// commit 3d4792f, KS + PBS per named set) within ±10%, and grows with every cost parameter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { estimateLatency, NAMED_PARAMETER_SETS, PARAM_MESSAGE_4 } from "../../src/tfhe/index.js";

const MEASURED_MS: Record<string, number> = {
  PARAM_MESSAGE_1: 18.2, PARAM_MESSAGE_2: 21.1, PARAM_MESSAGE_3: 22.9, PARAM_MESSAGE_4: 24.7,
  PARAM_MESSAGE_5: 92.7, PARAM_MESSAGE_6: 207, PARAM_MESSAGE_7: 608,
};

test("estimateLatency matches the fitted benchmark medians within 10%", () => {
  for (const { params } of NAMED_PARAMETER_SETS) {
    const want = MEASURED_MS[params.name];
    if (want === undefined) continue;
    const e = estimateLatency(params);
    assert.ok(Math.abs(e.totalMs / want - 1) <= 0.1, `${params.name}: estimated ${e.totalMs.toFixed(1)} ms, measured ${want} ms`);
    assert.ok(Math.abs(e.totalMs - e.keyswitchMs - e.blindRotationMs) < 1e-9);
  }
});

test("estimateLatency grows with n, N, levels and key-switch levels", () => {
  const base = estimateLatency(PARAM_MESSAGE_4).totalMs;
  for (const change of [{ lweDimension: 900 }, { polynomialSize: 4096 }, { pbsLevel: 2 }, { ksLevel: 6 }, { glweDimension: 2 }]) {
    assert.ok(estimateLatency({ ...PARAM_MESSAGE_4, ...change }).totalMs > base, JSON.stringify(change));
  }
});
