// ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier as tree models on threshold ranks (the encoding
// of the XGBoost import, rank-encoder.ts): every split becomes x < t on float32 values, so each is decided
// exactly as onnxruntime decides it. BRANCH_LEQ x ≤ t is x < t⁺ with t⁺ the next float32 above t; GT and
// GTE are the negations of LEQ and LT (children swapped). A NaN goes to the true branch where
// nodes_missing_value_tracks_true says so and to the false branch elsewhere; as in the XGBoost import, one
// encrypted rank can follow that only when all the nodes of a feature send NaN the same way.
import { type Matrix, type MatrixLike, toMatrix } from "../data.js";
import { imputeRows, type ModelClientSpec } from "../deploy.js";
import type { Label, Link } from "../decode.js";
import { MlUnsupportedError } from "../errors.js";
import { ImportedTreeModel } from "../trees/imported.js";
import type { Tree } from "../trees/ensemble.js";
import { RankEncoder } from "../trees/rank-encoder.js";
import type { OnnxGraph, OnnxNode } from "./parse.js";

/** The next float32 above a float32 v (v finite). */
function nextUp32(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer);
  if (v === 0) return 1.401298464324817e-45;
  u[0]! += v > 0 ? 1 : -1;
  return f[0]!;
}

/** An imported ONNX tree ensemble: values (regressor) or labels (classifier), in float, clear, simulate or FHE. */
export class OnnxTreeModel extends ImportedTreeModel {
  #regression = true;
  #link: Link = "identity";
  #impute: { readonly values: Float64Array; readonly replaced: number } | undefined;

  protected get modelName(): string { return "OnnxTreeModel"; }
  protected get params(): Record<string, unknown> { return { link: this.#link }; }
  protected get link(): Link { return this.#link; }
  protected override get acceptsMissing(): boolean { return true; }
  protected get regression(): boolean { return this.#regression; }

  /** Rows with missing values imputed as the graph's Imputer says, checked. */
  protected override rows(X: MatrixLike, cols: number): Matrix {
    const imp = this.imputation;
    return imp === undefined ? super.rows(X, cols) : imputeRows(toMatrix(X, { cols, allowNaN: true }), imp);
  }

  protected override get imputation(): ModelClientSpec["impute"] {
    const i = this.#impute;
    return i === undefined ? undefined : { values: Array.from(i.values), replaced: Number.isNaN(i.replaced) ? null : i.replaced };
  }

  /** @internal */
  static build(node: OnnxNode, features: number, leafBits?: number, impute?: { values: Float64Array; replaced: number }): OnnxTreeModel {
    const m = new OnnxTreeModel(leafBits === undefined ? {} : { leafBits });
    m.#impute = impute;
    const bad = (why: string): never => {
      throw new MlUnsupportedError(`ONNX node ${node.name} (${node.opType}): ${why}`);
    };
    const ints = (name: string, required = true): number[] => {
      const v = node.attributes.get(name)?.ints;
      if (v === undefined && required) bad(`attribute ${name} is missing`);
      return v ?? [];
    };
    const floats = (name: string): number[] => node.attributes.get(name)?.floats ?? bad(`attribute ${name} is missing`);
    const classifier = node.opType === "TreeEnsembleClassifier";
    const pt = node.attributes.get("post_transform")?.s ?? "NONE";
    const agg = node.attributes.get("aggregate_function")?.s ?? "SUM";
    if (agg !== "SUM" && agg !== "AVERAGE") bad(`aggregate_function ${agg} is not supported (SUM, AVERAGE)`);
    const treeIds = ints("nodes_treeids"), nodeIds = ints("nodes_nodeids"), featureIds = ints("nodes_featureids");
    const modes = node.attributes.get("nodes_modes")?.strings ?? bad("attribute nodes_modes is missing");
    const values = floats("nodes_values"), trueIds = ints("nodes_truenodeids"), falseIds = ints("nodes_falsenodeids");
    const tracksTrue = ints("nodes_missing_value_tracks_true", false);
    const n = treeIds.length;
    if ([nodeIds, featureIds, modes, values, trueIds, falseIds].some((a) => a.length !== n) || (tracksTrue.length !== 0 && tracksTrue.length !== n)) bad("node attributes of different lengths");
    const p = classifier ? "class" : "target";
    const lTree = ints(`${p}_treeids`), lNode = ints(`${p}_nodeids`), lId = ints(`${p}_ids`), lW = floats(`${p}_weights`);
    if ([lNode, lId, lW].some((a) => a.length !== lTree.length)) bad(`${p}_* attributes of different lengths`);
    let K: number, link: Link, classes: Label[] = [];
    if (classifier) {
      classes = node.attributes.get("classlabels_int64s")?.ints ?? node.attributes.get("classlabels_strings")?.strings ?? bad("no class labels");
      const ids = new Set(lId);
      if (classes.length >= 3 && (pt === "NONE" || pt === "SOFTMAX")) {
        K = classes.length;
        link = pt === "NONE" ? "proba" : "softmax";
      } else if (classes.length === 2 && ids.size === 1 && pt === "LOGISTIC") {
        // The binary form of boosted trees: one score s, P(class 1) = σ(s).
        K = 1;
        link = "logistic";
      } else {
        return bad(`${classes.length} classes with post_transform ${pt} and weights on ${ids.size} class id(s): supported are ≥ 3 classes (NONE or SOFTMAX) and the binary form with one score column and LOGISTIC`);
      }
    } else {
      if (pt !== "NONE") bad(`post_transform ${pt} is not supported (NONE only)`);
      K = node.attributes.get("n_targets")?.i ?? 1;
      link = "identity";
    }
    if (lId.some((k) => !(Number.isInteger(k) && k >= 0 && (K === 1 || k < K)))) bad(`a leaf weight names an output outside [0, ${K})`);
    const base = node.attributes.get("base_values")?.floats ?? [];
    if (base.length !== 0 && base.length !== K) bad(`${base.length} base_values for ${K} output(s)`);

    // Nodes by tree; thresholds (as x < t) and NaN directions by feature.
    const byTree = new Map<number, Map<number, number>>();
    for (let i = 0; i < n; i++) {
      if (!byTree.has(treeIds[i]!)) byTree.set(treeIds[i]!, new Map());
      byTree.get(treeIds[i]!)!.set(nodeIds[i]!, i);
    }
    const thr = Array.from({ length: features }, () => new Set<number>());
    const nanLeft = Array.from({ length: features }, () => new Set<boolean>());
    const split = new Map<number, { t: number; swap: boolean }>();
    for (let i = 0; i < n; i++) {
      const mode = modes[i]!;
      if (mode === "LEAF") continue;
      const f = featureIds[i]!;
      if (!(Number.isInteger(f) && f >= 0 && f < features)) bad(`node ${nodeIds[i]} of tree ${treeIds[i]} splits on feature ${f} of ${features}`);
      const v = Math.fround(values[i]!);
      if (!Number.isFinite(v)) bad(`node ${nodeIds[i]} of tree ${treeIds[i]} has threshold ${v}`);
      let s: { t: number; swap: boolean };
      if (mode === "BRANCH_LT") s = { t: v, swap: false };
      else if (mode === "BRANCH_LEQ") s = { t: nextUp32(v), swap: false };
      else if (mode === "BRANCH_GTE") s = { t: v, swap: true };
      else if (mode === "BRANCH_GT") s = { t: nextUp32(v), swap: true };
      else return bad(`node ${nodeIds[i]} of tree ${treeIds[i]}: mode ${mode} is not supported (BRANCH_LT, BRANCH_LEQ, BRANCH_GT, BRANCH_GTE)`);
      split.set(i, s);
      thr[f]!.add(s.t);
      // NaN takes the true branch iff tracked; the true branch is the left (x < t) one unless swapped.
      nanLeft[f]!.add((tracksTrue[i] === 1) !== s.swap);
    }
    const sorted = thr.map((s) => Float64Array.from([...s].sort((a, b) => a - b)));
    const missingRank = nanLeft.map((d, f) => (d.size === 0 ? 0 : d.size === 2 ? null : d.has(true) ? 0 : sorted[f]!.length));
    const encoder = new RankEncoder(sorted, missingRank);
    if (encoder.qmax > 255) bad(`a feature is compared with ${Math.max(...sorted.map((s) => s.length))} distinct thresholds: its rank needs more than 8 bits`);

    const leafWeights = new Map<string, [number, number][]>();
    for (let j = 0; j < lTree.length; j++) {
      const key = `${lTree[j]}:${lNode[j]}`;
      if (!leafWeights.has(key)) leafWeights.set(key, []);
      leafWeights.get(key)!.push([K === 1 ? 0 : lId[j]!, Math.fround(lW[j]!)]);
    }
    const trees: Tree[] = [...byTree.entries()].sort((a, b) => a[0] - b[0]).map(([tid, nodes]) => {
      const feature: number[] = [], threshold: number[] = [], left: number[] = [], right: number[] = [], value: number[] = [];
      const rootId = nodes.has(0) ? 0 : Math.min(...nodes.keys());
      const visit = (id: number, depth: number): number => {
        if (depth > 64) bad(`tree ${tid} is deeper than 64 (or has a cycle)`);
        const i = nodes.get(id) ?? bad(`tree ${tid} has no node ${id}`);
        const at = feature.length;
        feature.push(0); threshold.push(0); left.push(-1); right.push(-1);
        for (let o = 0; o < K; o++) value.push(0);
        const s = split.get(i);
        if (s === undefined) {
          for (const [o, w] of leafWeights.get(`${tid}:${id}`) ?? []) value[at * K + o]! += w;
          return at;
        }
        feature[at] = featureIds[i]!;
        threshold[at] = sorted[featureIds[i]!]!.indexOf(s.t);
        const [l, r] = s.swap ? [falseIds[i]!, trueIds[i]!] : [trueIds[i]!, falseIds[i]!];
        left[at] = visit(l, depth + 1);
        right[at] = visit(r, depth + 1);
        return at;
      };
      visit(rootId, 0);
      return { feature: Int32Array.from(feature), threshold: Int32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float64Array.from(value) };
    });
    const baseK = base.length === 0 ? new Float64Array(K) : Float64Array.from(base, Math.fround);
    m.#regression = !classifier;
    m.#link = link;
    m.classes_ = classes;
    m.setModel(encoder, { trees, outputs: K, base: baseK, scale: agg === "AVERAGE" ? 1 / trees.length : 1 });
    return m;
  }

  /** The float model's scores before the post-transform, per row. */
  outputsFloat(X: MatrixLike): number[][] {
    const s = this.rawFloat(X), K = s.data.length / s.rows;
    return Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }
}

/** Nodes that may follow a tree ensemble: they pass its labels or probabilities on (ZipMap's maps stand for them). */
const TREE_TAIL = new Set(["ZipMap", "Cast", "Identity", "Normalizer", "Reshape", "Flatten"]);

/**
 * The graph's tree-ensemble node, when the graph is that node on the input — after an optional Imputer (the
 * client imputes) and Identity/Cast to float, and before the tails skl2onnx writes (ZipMap, Cast, Identity,
 * an L1 Normalizer of probabilities); undefined when the graph has no tree ensemble.
 */
export function treeEnsembleNode(g: OnnxGraph): { node: OnnxNode; impute?: { values: Float64Array; replaced: number } } | undefined {
  const trees = g.nodes.filter((n) => n.domain === "ai.onnx.ml" && (n.opType === "TreeEnsembleRegressor" || n.opType === "TreeEnsembleClassifier"));
  if (trees.length === 0) return undefined;
  const node = trees[0]!;
  const refuse = (n: OnnxNode, why: string): never => {
    throw new MlUnsupportedError(`ONNX node ${n.name} (${n.opType}): ${why}`);
  };
  if (trees.length > 1) refuse(trees[1]!, "a second tree ensemble (one per graph is supported)");
  // The features the trees read: the input, through an Imputer or casts to float.
  let features = g.input.name, impute: { values: Float64Array; replaced: number } | undefined;
  const at = g.nodes.indexOf(node), before = g.nodes.slice(0, at), after = g.nodes.slice(at + 1);
  for (const n of before) {
    if (n.inputs[0] !== features) refuse(n, "before a tree ensemble, only an Imputer, Identity or Cast of the input are supported");
    if (n.domain === "ai.onnx.ml" && n.opType === "Imputer") {
      const v = n.attributes.get("imputed_value_floats")?.floats ?? [], F = g.input.features;
      if (v.length !== 1 && v.length !== F) refuse(n, `${v.length} imputed values for ${F} features (imputed_value_floats)`);
      impute = { values: Float64Array.from({ length: F }, (_, j) => v[v.length === 1 ? 0 : j]!), replaced: n.attributes.get("replaced_value_float")?.f ?? 0 };
    } else if (!(n.opType === "Identity" || (n.opType === "Cast" && [1, 11].includes(n.attributes.get("to")?.i ?? 1)))) {
      refuse(n, "before a tree ensemble, only an Imputer, Identity or Cast of the input are supported");
    }
    features = n.outputs[0]!;
  }
  if (node.inputs[0] !== features) refuse(node, "a tree ensemble must read the graph input");
  const derived = new Set(node.outputs);
  for (const n of after) {
    if (!TREE_TAIL.has(n.opType) || !n.inputs.filter((i) => i !== "").every((i) => derived.has(i) || g.initializers.has(i))) {
      refuse(n, "after a tree ensemble, only ZipMap, Cast, Identity, Reshape and an L1 Normalizer of its outputs are supported");
    }
    if (n.opType === "Normalizer" && (n.attributes.get("norm")?.s ?? "MAX") !== "L1") refuse(n, "only an L1 Normalizer of probabilities");
    n.outputs.forEach((o) => derived.add(o));
  }
  if (!derived.has(g.output)) throw new MlUnsupportedError(`ONNX: the output ${g.output} is not computed by the tree ensemble ${node.name}`);
  return impute === undefined ? { node } : { node, impute };
}
