// The compiler's noise accounting in real FHE: the Σw² it tracks per node (bounds.ts / norms.ts) times the
// variance of one source — a fresh encryption (σ_glwe²) or a PBS output (the core's pbsOutputVariance) —
// against the variance measured on decrypted phases. Real parameters chosen by compile(). Tolerances are
// ≥ 4 standard deviations of the variance estimator (√(2/n)), and wider for PBS outputs, whose FFT term is
// a fitted model (as test/tfhe/noise-measured.test.ts). Σw² assumes independent sources: separate blind
// rotations are (measured |ρ| < 0.07), outputs of one fused rotation are not (|ρ| ≈ 0.2), so the compiler
// counts those as one source of weight Σ|w| (norms.ts); this checks combinations of fused outputs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { compile, lut, type Circuit } from "../../src/compiler/index.js";
import { LweBatch, pbsOutputVariance } from "../../src/tfhe/index.js";

function variance(xs: ArrayLike<number>): number {
  let s = 0, s2 = 0;
  for (let i = 0; i < xs.length; i++) { s += xs[i]!; s2 += xs[i]! * xs[i]!; }
  const m = s / xs.length;
  return (s2 - xs.length * m * m) / (xs.length - 1);
}

/** Phase errors (fractions of the torus) of an output batch whose clear values are `want`. */
function errors(c: Circuit, out: LweBatch, want: Float64Array): Float64Array {
  // Each output is in its own region's message space (encoding.ts): Δ of its batch's encoding.
  const delta = 1n << BigInt(63 - out.encoding.bits);
  const phases = c.client.keys.client.phases(out);
  return Float64Array.from(phases, (ph, i) => Number(BigInt.asIntN(64, ph - BigInt.asUintN(64, BigInt(want[i]!) * delta))) / 2 ** 64);
}

const ratios: string[] = [];
function assertWithin(measured: number, model: number, lo: number, hi: number, what: string): void {
  const r = measured / model;
  ratios.push(`${what}: ${r.toFixed(3)}`);
  assert.ok(r >= lo && r <= hi, `${what}: measured ${measured.toExponential(3)}, model ${model.toExponential(3)} (ratio ${r.toFixed(3)}, allowed [${lo}, ${hi}])`);
}

function assertClose(measured: number, model: number, tol: number, what: string): void {
  assertWithin(measured, model, 1 - tol, 1 + tol, what);
}

after(() => { console.log(`# measured / model: ${ratios.join("; ")}`); });

test("linear circuit on fresh inputs: measured variance = Σw² · σ_glwe² per output (4096 samples each)", () => {
  const n = 4096;
  const corner = (a: number, b: number) => [new Array<number>(n).fill(a), new Array<number>(n).fill(b)];
  const set = [corner(-8, 7), corner(7, -8), corner(-8, -8), corner(7, 7)];
  const c = compile((x, y) => [x.mul(3).sub(y.mul(2)).add(5), x.add(x).add(y)], { x: "encrypted", y: "encrypted" }, set);
  try {
    const [o1, o2] = c.graph.outputs;
    assert.equal(c.bounds.nodes[o1!]!.norm2, 13);
    assert.equal(c.bounds.nodes[o2!]!.norm2, 5); // x + x is 2x: Σw² = 4 + 1, not 1 + 1 + 1
    c.keygen();
    const r = (() => { let s = 7; return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s; }; })();
    const x = Array.from({ length: n }, () => (r() % 16) - 8), y = Array.from({ length: n }, () => (r() % 16) - 8);
    const values = c.client.encryptValues(x, y).map((v) => ("encrypted" in v && "decompress" in v.encrypted ? v.encrypted.decompress() : v));
    const outs = c.server.runValues(values as never, undefined) as LweBatch[];
    const want = c.runClear(x, y).map((t) => t.data);
    const fresh = c.parameters.params.glweNoiseStd ** 2;
    assertClose(variance(errors(c, outs[0]!, want[0]!)), 13 * fresh, 0.1, "3x − 2y + 5");
    assertClose(variance(errors(c, outs[1]!, want[1]!)), 5 * fresh, 0.1, "x + x + y");
  } finally {
    c.dispose();
  }
});

test("after lookups: measured variance = Σw² · PBS output variance; combined outputs of one fused rotation are bounded by (Σ|w|)²", async () => {
  const n = 512;
  const set = Array.from({ length: 4 }, (_, v) => [new Array(n).fill(v)]);
  const c = compile((x) => {
    const a = lut(x, (v) => v), b = lut(x, (v) => 3 - v), d = lut(x, (v) => (v * 3) % 4);
    // A 4-bit lookup of 5x makes the PBS 4-bit: room for a, b and d (2-bit inputs) in one rotation.
    return [a, b, a.mul(3).sub(b.mul(2)), d, lut(x.mul(5), (v) => v % 7), a.add(b).add(d), a.sub(d)];
    // One parameter set (the default), so that every output's variance is that set's PBS output variance.
  }, { x: "encrypted" }, set);
  try {
    // a, b and d share one blind rotation (many-LUT) although their outputs are combined.
    assert.deepEqual(c.encoding.groups.map((g) => g.members.length), [3, 1]);
    assert.equal(c.encoding.pbsCount, 2 * n);
    const outsIds = c.graph.outputs;
    // Independent sources would give Σw² = 13, 3, 2; one rotation's outputs count as (Σ|w|)².
    assert.deepEqual(outsIds.map((o) => c.bounds.nodes[o]!.norm2), [1, 1, 13, 1, 1, 3, 2]);
    const noise = new Map(c.encoding.outputNoise.map((o) => [o.node, o.pbsNorm2]));
    assert.deepEqual(outsIds.map((o) => noise.get(o)), [1, 1, 25, 1, 1, 9, 4]);
    const ek = c.keygen().evaluationKeys!;
    const x = Array.from({ length: n }, (_, i) => (i * 5) % 4);
    const values = c.client.encryptValues(x).map((v) => ("encrypted" in v && "decompress" in v.encrypted ? v.encrypted.decompress() : v));
    const pool = await c.server.createPool(ek, { threads: 2 });
    let outs: LweBatch[];
    try {
      outs = await c.server.runValuesAsync(values as never, pool) as LweBatch[];
    } finally {
      await pool.close();
    }
    const want = c.runClear(x).map((t) => t.data);
    const pbs = pbsOutputVariance(c.parameters.params);
    // n rotations, one sample each. A rotation's noise scale itself varies (heavy tails), so the
    // estimator's spread is wider than √(2/n). The model is kept conservative (its FFT term; measured
    // 0.8–1.0 here): the check that matters is that it does not underestimate, so the band is [0.5, 1.3].
    const e = [0, 1, 3].map((k) => errors(c, outs[k]!, want[k]!));
    const [va, vb, vd] = e.map(variance) as [number, number, number];
    assertWithin(va, pbs, 0.5, 1.3, "lut a");
    assertWithin(vb, pbs, 0.5, 1.3, "lut b (fused with a)");
    assertWithin(vd, pbs, 0.5, 1.3, "lut d (fused with a)");
    // The correlated sums: measured against the bound the parameters were chosen for. (Σ|w|)² holds for
    // any correlation; the measured ratios (printed) show how much of it correlation actually uses.
    for (const [k, what] of [[2, "3a − 2b"], [5, "a + b + d"], [6, "a − d"]] as const) {
      const v = variance(errors(c, outs[k]!, want[k]!));
      assertWithin(v, noise.get(outsIds[k]!)! * pbs, 0, 1.3, `${what} vs (Σ|w|)²·σ²`);
      ratios.push(`${what} vs Σw²·σ² (independent): ${(v / (c.bounds.nodes[outsIds[k]!]!.norm2 * pbs)).toFixed(3)}`);
      if (k === 5) ratios.push(`a + b + d vs var(a) + var(b) + var(d) measured: ${(v / (va + vb + vd)).toFixed(3)}`);
    }
    const corr = (u: Float64Array, w: Float64Array): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += u[i]! * w[i]!;
      return s / (n - 1) / Math.sqrt(variance(u) * variance(w));
    };
    ratios.push(`ρ(a, b) = ${corr(e[0]!, e[1]!).toFixed(3)}, ρ(a, d) = ${corr(e[0]!, e[2]!).toFixed(3)}, ρ(b, d) = ${corr(e[1]!, e[2]!).toFixed(3)}`);
  } finally {
    c.dispose();
  }
});
