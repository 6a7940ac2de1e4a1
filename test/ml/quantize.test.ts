// Quantizers: the affine input quantizer maps each feature's calibration range onto [0, 2^n − 1] with an
// error of at most half a step, clips (and counts) what lies beyond; symmetric weights round to the nearest
// multiple of max|w|/(2^(n−1) − 1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { AffineQuantizer, MlInputError, quantizeSymmetric, toMatrix } from "../../src/ml/index.js";

test("affine per-feature quantizer: range → [0, 2^n − 1], error ≤ half a step, constant columns mid-range, clipping counted", () => {
  const X = toMatrix([[-1, 10, 5], [3, 20, 5], [0.5, 12.5, 5]]);
  const qz = AffineQuantizer.fit(X, 4);
  assert.deepEqual([...qz.scale].slice(0, 2), [4 / 15, 10 / 15]);
  const { q, report } = qz.quantize(X);
  assert.equal(report.clipped, 0);
  assert.equal(q[0], 0); // min of column 0
  assert.equal(q[3], 15); // max of column 0
  assert.equal(q[1], 0);
  assert.equal(q[4], 15);
  assert.equal(q[2], 7, "a constant column sits mid-range");
  const back = qz.dequantize(q);
  for (let k = 0; k < 9; k++) {
    if (k % 3 === 2) continue;
    assert.ok(Math.abs(back[k]! - X.data[k]!) <= qz.scale[k % 3]! / 2 + 1e-12, `element ${k}`);
  }
  // Out of range by more than half a step: clipped to the ends and reported with the first position.
  const r = qz.quantize(toMatrix([[-2, 15, 5], [10, 21, 5]]));
  assert.deepEqual([...r.q], [0, 8, 7, 15, 15, 7]);
  assert.equal(r.report.clipped, 3);
  assert.deepEqual(r.report.first, { row: 0, col: 0, value: -2 });
  // JSON round trip.
  const again = AffineQuantizer.fromJSON(JSON.parse(JSON.stringify(qz.toJSON())));
  assert.deepEqual([...again.quantize(X).q], [...q]);
  assert.throws(() => AffineQuantizer.fit(X, 0), MlInputError);
  assert.throws(() => AffineQuantizer.fromJSON({ ...qz.toJSON(), scale: [1, -1, 1] }), MlInputError);
});

test("symmetric weight quantization: per column, q ∈ [−(2^(n−1) − 1), 2^(n−1) − 1], |w − s·q| ≤ s/2", () => {
  const w = Float64Array.from([0.5, -2, -1, 0.25, 0.75, 0]); // 3 × 2
  const { q, scale } = quantizeSymmetric(w, 3, 2, 4);
  assert.deepEqual([...scale], [1 / 7, 2 / 7]);
  assert.deepEqual([...q], [4, -7, -7, 1, 5, 0]);
  for (let k = 0; k < 6; k++) assert.ok(Math.abs(w[k]! - scale[k % 2]! * q[k]!) <= scale[k % 2]! / 2 + 1e-12);
  assert.deepEqual([...quantizeSymmetric(new Float64Array(2), 2, 1, 8).q], [0, 0]);
});
