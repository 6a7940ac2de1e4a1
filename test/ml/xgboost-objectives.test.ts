// XGBoost objectives beyond the fixtures' (hand-written two-tree models): each objective's link and base_score
// transform, the base_score formats of XGBoost 1.7, 2.x and 3.x, missing values by default_left, and UBJSON
// refused. Expected predictions are computed here from the trees by hand, independently of the importer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importXGBoost, MlUnsupportedError } from "../../src/ml/index.js";

/** Two depth-1 trees: x0 < 0.5 (NaN left) → −0.4 | 0.6; x1 < 1 (NaN right) → 0.3 | −0.2, per output group. */
function model(objective: string, baseScore: unknown, numClass = 0): object {
  const K = Math.max(1, numClass);
  const stump = (f: number, t: number, l: number, r: number, nanLeft: number) => ({
    left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [f, 0, 0], split_conditions: [t, l, r],
    default_left: [nanLeft, 0, 0], split_type: [0, 0, 0], tree_param: { size_leaf_vector: "0" },
  });
  // Group k's trees scale the leaves by (k + 1), so classes differ.
  const trees = Array.from({ length: K }, (_, k) => [stump(0, 0.5, -0.4 * (k + 1), 0.6 * (k + 1), 1), stump(1, 1, 0.3 * (k + 1), -0.2 * (k + 1), 0)]).flat();
  return {
    learner: {
      objective: { name: objective },
      learner_model_param: { base_score: baseScore, num_class: String(numClass), num_feature: "2", num_target: "1" },
      gradient_booster: { name: "gbtree", model: { gbtree_model_param: { num_parallel_tree: "1" }, tree_info: trees.map((_, i) => Math.floor(i / 2)), trees } },
    },
  };
}

/** The margin of group k on a row, by hand. */
function margin(x: number[], k: number): number {
  const left0 = Number.isNaN(x[0]!) ? true : x[0]! < 0.5, left1 = Number.isNaN(x[1]!) ? false : x[1]! < 1;
  return (k + 1) * ((left0 ? -0.4 : 0.6) + (left1 ? 0.3 : -0.2));
}

const X = [[0, 0], [1, 0], [0, 2], [1, 2], [NaN, 0.5], [0.7, NaN]];
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test("XGBoost regression objectives: identity, σ (reg:logistic) and exp (count:poisson, reg:gamma, reg:tweedie) links with base_score in the output's space", async () => {
  const cases: [string, number, (m: number) => number][] = [
    ["reg:absoluteerror", 2.5, (m) => 2.5 + m], ["reg:pseudohubererror", 2.5, (m) => 2.5 + m], ["reg:squaredlogerror", 2.5, (m) => 2.5 + m],
    ["reg:quantileerror", 2.5, (m) => 2.5 + m],
    ["reg:logistic", 0.25, (m) => sigmoid(Math.log(0.25 / 0.75) + m)],
    ["count:poisson", 3, (m) => 3 * Math.exp(m)], ["reg:gamma", 3, (m) => 3 * Math.exp(m)], ["reg:tweedie", 3, (m) => 3 * Math.exp(m)],
  ];
  for (const [objective, base, value] of cases) {
    const m = importXGBoost(model(objective, String(base)));
    assert.equal(m.isClassifier, false, objective);
    (m.predictFloat(X) as number[]).forEach((v, i) => near(v, value(margin(X[i]!, 0)), `${objective} row ${i}`));
    m.compile();
    try {
      // Leaves quantized to 4 bits: the margin within half a step of each leaf sum.
      const q = await m.predict(X) as number[];
      q.forEach((v, i) => assert.ok(Math.abs(v - value(margin(X[i]!, 0))) <= 0.05 * Math.max(1, v), `${objective} quantized row ${i}: ${v}`));
      assert.deepEqual(await m.predict(X, { fhe: "simulate" }), q, `${objective}: simulate = clear`);
      if (objective === "count:poisson") assert.deepEqual(await m.predict(X.slice(0, 2), { fhe: "execute", threads: 2 }), q.slice(0, 2), "FHE = clear");
    } finally {
      await m.close();
    }
  }
});

test("XGBoost binary:hinge: labels by the sign of the margin (no probabilities); base_score formats of 1.7, 2.x and 3.x", async () => {
  // base_score 0.5 is added as is for hinge: margin + 0.5 > 0.
  const hinge = importXGBoost(model("binary:hinge", "5E-1")).compile();
  try {
    assert.ok(hinge.isClassifier);
    const expect = X.map((x) => (margin(x, 0) + 0.5 > 0 ? 1 : 0));
    assert.deepEqual(hinge.predictFloat(X), expect);
    assert.deepEqual(await hinge.predict(X), expect);
    await assert.rejects(hinge.predictProba(X), /no probabilities/);
  } finally {
    await hinge.close();
  }
  // The same binary:logistic model with base_score written as 1.7 (a number string), 2.x ("E" notation) and 3.x (a bracketed list).
  for (const b of ["0.3", "3E-1", "[3E-1]", 0.3]) {
    const m = importXGBoost(model("binary:logistic", b));
    m.predictProbaFloat(X).forEach((p, i) => near(p[1]!, sigmoid(Math.log(0.3 / 0.7) + margin(X[i]!, 0)), `base_score ${JSON.stringify(b)} row ${i}`));
  }
  // XGBoost 3's per-class intercepts of multi:softprob are margins, added per class.
  const multi = importXGBoost(model("multi:softprob", "[1E-1,2E-1,-3E-1]", 3));
  multi.predictProbaFloat(X).forEach((p, i) => {
    const z = [0.1, 0.2, -0.3].map((b, k) => Math.exp(b + margin(X[i]!, k))), s = z.reduce((a, v) => a + v, 0);
    p.forEach((v, k) => near(v, z[k]! / s, `multi row ${i} class ${k}`));
  });
  assert.throws(() => importXGBoost(model("multi:softprob", "[1E-1,2E-1]", 3)), (e: unknown) => e instanceof MlUnsupportedError && /base_score "\[1E-1,2E-1\]": expected a number or 1 or 3 in brackets/.test(e.message));
  assert.throws(() => importXGBoost(model("reg:gamma", "0")), (e: unknown) => e instanceof MlUnsupportedError && /base_score 0 of reg:gamma: expected a positive mean/.test(e.message));
  assert.throws(() => importXGBoost(model("survival:cox", "1")), (e: unknown) => e instanceof MlUnsupportedError && /objective survival:cox is not supported/.test(e.message));
});

test("XGBoost UBJSON (save_model(\"model.ubj\")) is refused with what to do instead", () => {
  // The start of a UBJSON object: '{', then a length-typed key ('U' 7 "learner").
  const ubj = new Uint8Array([0x7b, 0x55, 0x07, ...new TextEncoder().encode("learner"), 0x7b]);
  assert.throws(() => importXGBoost(ubj), (e: unknown) => e instanceof MlUnsupportedError && /UBJSON.*save the model as JSON/.test(e.message));
  assert.throws(() => importXGBoost(new TextDecoder().decode(ubj)), (e: unknown) => e instanceof MlUnsupportedError && /UBJSON/.test(e.message));
  // JSON bytes are read.
  const bytes = new TextEncoder().encode(JSON.stringify(model("reg:squarederror", "1")));
  near((importXGBoost(bytes).predictFloat([[0, 0]]) as number[])[0]!, 1 + margin([0, 0], 0), "JSON bytes");
});
