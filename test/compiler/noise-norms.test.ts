// Σw² with clear weights known only at run time: a weight that is a product of clear ranges must be
// bounded over all four corners of each product (interval multiplication), or the parameters come out
// too small for some inputs inside the ranges. Checked on the exact case and against brute force over
// the corners of every clear range.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { inferBounds, trace, type Tracer } from "../../src/compiler/index.js";

type Spec = Record<string, "encrypted" | "clear">;

function outputNorm2(fn: (...xs: Tracer[]) => Tracer, spec: Spec, inputset: number[][]): number {
  const g = trace(fn as never, spec);
  return inferBounds(g, inputset.map((s) => s.map((v) => [v]) as never)).nodes[g.outputs[0]!]!.norm2;
}

test("x·c·d with c ∈ [−3, 2], d ∈ [−1, 4]: the weight c·d reaches −12, so Σw² = 144 (not 64 from two corners)", () => {
  const spec: Spec = { x: "encrypted", c: "clear", d: "clear" };
  // Two samples give each clear input its range; the corner c = −3, d = 4 is never sampled together.
  const set = [[1, -3, -1], [1, 2, 4]];
  assert.equal(outputNorm2((x, c, d) => x.mul(c).mul(d), spec, set), 144);
  assert.equal(outputNorm2((x, c, d) => x.mul(d).mul(c), spec, set), 144);
  assert.equal(outputNorm2((x, c, d) => d.mul(c.mul(x)), spec, set), 144);
  // A clear product node's own range is measured: with all four corners in the inputset it is [−12, 8].
  const corners = [[1, -3, -1], [1, -3, 4], [1, 2, -1], [1, 2, 4]];
  assert.equal(outputNorm2((x, c, d) => x.mul(c.mul(d)), spec, corners), 144);
});

test("Σw² of chains of clear factors equals brute force over the corners of every range", () => {
  const interval = fc.tuple(fc.integer({ min: -9, max: 9 }), fc.integer({ min: -9, max: 9 }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  fc.assert(fc.property(
    fc.array(fc.record({ range: interval, onY: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: -5, max: 5 }).filter((w) => w !== 0),
    (factors, yWeight) => {
      // out = x·Π(c_i on x) + y·w·Π(c_i on y): two independent sources, each clear input used once.
      const spec: Spec = { x: "encrypted", y: "encrypted" };
      factors.forEach((_, i) => { spec[`c${i}`] = "clear"; });
      const fn = (...inputs: Tracer[]) => { // (no fixed arity: the spec lists the inputs)
        const [x, y, ...cs] = inputs as [Tracer, Tracer, ...Tracer[]];
        let ax = x, ay = y.mul(yWeight);
        cs.forEach((c, i) => { if (factors[i]!.onY) ay = ay.mul(c); else ax = c.mul(ax); });
        return ax.add(ay);
      };
      const lo = [0, 0, ...factors.map((f) => f.range[0])], hi = [0, 0, ...factors.map((f) => f.range[1])];
      const got = outputNorm2(fn, spec, [lo, hi]);
      // Brute force: the largest squared weight of each source over every corner choice.
      let maxX = 0, maxY = 0;
      for (let mask = 0; mask < 2 ** factors.length; mask++) {
        let wx = 1, wy = yWeight;
        factors.forEach((f, i) => {
          const v = f.range[(mask >> i) & 1]!;
          if (f.onY) wy *= v; else wx *= v;
        });
        maxX = Math.max(maxX, wx * wx);
        maxY = Math.max(maxY, wy * wy);
      }
      assert.equal(got, maxX + maxY, `factors ${JSON.stringify(factors)}, y weight ${yWeight}`);
    },
  ), { numRuns: 300 });
});
