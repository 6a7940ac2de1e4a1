// Import of XGBoost's JSON model format (`Booster.save_model("model.json")`): gradient-boosted trees with
// numerical splits for the classification objectives (binary:logistic/logitraw/hinge, multi:softprob/softmax)
// and the regression ones, each with its link: identity, σ (reg:logistic) or exp (count:poisson, reg:gamma,
// reg:tweedie). base_score is stored in the output's space (XGBoost ≥ 1.0): the margin starts at its image
// by the inverse link (logit, log), as XGBoost's ProbToMargin does; a per-class vector (XGBoost 3) is added as is.
//
// Encoding: XGBoost sends x left at a node when float32(x) < threshold. For each feature, let t_0 < … < t_{m−1}
// be the distinct thresholds the model compares it with; the feature is encoded as its rank
// q = #{j : t_j ≤ x}, so x < t_k ⇔ q ≤ k. The trees then test integers exactly as the float model tests
// reals: the quantized and FHE models decide every split as XGBoost does, with ⌈log2(max m + 1)⌉ bits.
// Missing values (NaN) take each node's default direction in XGBoost; a rank can stand for that when every
// node testing the feature has the same default (rank 0: always left; rank m: always right). A NaN in a
// feature whose nodes disagree is refused with an error naming it.
import type { MatrixLike } from "../data.js";
import type { Label, Link } from "../decode.js";
import { MlInputError, MlUnsupportedError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import type { TreeModelJSON } from "./base.js";
import { ImportedTreeModel } from "./imported.js";
import { RankEncoder, type RankEncoderJSON } from "./rank-encoder.js";
import type { Ensemble, Tree } from "./ensemble.js";

export { RankEncoder, type RankEncoderJSON };

interface XgbTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: (number | boolean)[];
  split_type?: number[];
  tree_param?: { size_leaf_vector?: string };
}

/** Each supported objective's link from margin to prediction. */
const OBJECTIVES: Readonly<Record<string, Link>> = {
  "binary:logistic": "logistic", "binary:logitraw": "logistic", "binary:hinge": "margin", "multi:softprob": "softmax", "multi:softmax": "softmax",
  "reg:squarederror": "identity", "reg:linear": "identity", "reg:absoluteerror": "identity", "reg:pseudohubererror": "identity",
  "reg:squaredlogerror": "identity", "reg:quantileerror": "identity", "reg:logistic": "logistic",
  "count:poisson": "exp", "reg:gamma": "exp", "reg:tweedie": "exp",
};
const SUPPORTED = Object.keys(OBJECTIVES);
const isRegression = (objective: string): boolean => objective.startsWith("reg:") || objective.startsWith("count:");

/** An imported XGBoost model: predicts labels (classifiers) or values, in float, quantized clear, simulation or FHE. */
export class XGBoostModel extends ImportedTreeModel {
  #objective = "";
  #regression = false;

  protected get modelName(): string { return "XGBoostModel"; }
  protected get params(): Record<string, unknown> { return { objective: this.#objective }; }
  protected get link(): Link {
    return OBJECTIVES[this.#objective]!;
  }
  protected override get acceptsMissing(): boolean { return true; }
  protected get regression(): boolean { return this.#regression; }

  get objective(): string { return this.#objective; }

  /** @internal */
  static build(objective: string, classes: Label[], encoder: RankEncoder, ensemble: Ensemble, leafBits?: number): XGBoostModel {
    const m = new XGBoostModel(leafBits === undefined ? {} : { leafBits });
    m.#objective = objective;
    m.#regression = isRegression(objective);
    m.classes_ = m.#regression ? [] : classes;
    m.setModel(encoder, ensemble);
    return m;
  }

  predictProbaFloat(X: MatrixLike): number[][] {
    if (this.#regression) throw new MlInputError("predictProbaFloat: the imported model is a regressor");
    return this.probaOf(this.rawFloat(X));
  }

  /** Margins before the link (XGBoost's output_margin=True). */
  async decisionFunction(X: MatrixLike, options: PredictOptions = {}): Promise<number[] | number[][]> {
    const s = await this.raw(X, options), K = s.data.length / s.rows;
    return K === 1 ? Array.from(s.data) : Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }

  override toJSON(): TreeModelJSON {
    return { ...super.toJSON(), params: { leafBits: this.leafBits, objective: this.#objective } };
  }

  static fromJSON(j: TreeModelJSON): XGBoostModel {
    const objective = String(j?.params?.objective);
    if (!SUPPORTED.includes(objective)) throw new MlInputError(`fromJSON: unsupported objective ${objective}`);
    const m = new XGBoostModel({ leafBits: j.params.leafBits as number });
    m.#objective = objective;
    m.#regression = isRegression(objective);
    return m.restoreWith(j, (e) => RankEncoder.fromJSON(e as RankEncoderJSON));
  }
}

const fail = (why: string): never => {
  throw new MlUnsupportedError(`importXGBoost: ${why}`);
};

/** base_score as XGBoost writes it: a number, "5E-1" (2.x), "[5E-1]" or a per-class "[a,b,c]" (3.x). */
function baseScores(v: unknown, K: number): number[] {
  const text = String(v ?? "0.5").trim();
  const list = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1).split(",") : [text];
  const b = list.map((x) => Number(x.trim()));
  if (b.length === 0 || b.some((x) => !Number.isFinite(x)) || !(b.length === 1 || b.length === K)) fail(`base_score ${JSON.stringify(v)}: expected a number or ${K === 1 ? "one" : `1 or ${K}`} in brackets`);
  return b.length === 1 ? new Array<number>(K).fill(b[0]!) : b;
}

/** XGBoost's binary format (UBJSON, `save_model("model.ubj")`): an object whose keys have a length marker. */
function isUbjson(b: Uint8Array): boolean {
  return b.length > 2 && b[0] === 0x7b && [0x55, 0x69, 0x49, 0x6c, 0x4c, 0x23, 0x24].includes(b[1]!);
}

/**
 * Reads an XGBoost JSON model (the text, its bytes or the parsed object). `leafBits` sets the precision of the leaf
 * values in FHE (default 4). Unsupported objectives, categorical splits, and vector leaves are errors
 * naming what was found.
 */
export function importXGBoost(json: string | Uint8Array | object, options: { readonly leafBits?: number } = {}): XGBoostModel {
  let doc: any; // an external format, checked field by field below
  const ubj = (): never => fail("this is XGBoost's binary UBJSON format, which is not read here: save the model as JSON (booster.save_model(\"model.json\"))");
  if (json instanceof Uint8Array) {
    if (isUbjson(json)) ubj();
    json = new TextDecoder().decode(json);
  }
  try {
    doc = typeof json === "string" ? JSON.parse(json) : json;
  } catch (e) {
    if (typeof json === "string" && isUbjson(new TextEncoder().encode(json.slice(0, 3)))) ubj();
    throw new MlInputError(`importXGBoost: not JSON (${(e as Error).message})`);
  }
  const learner = doc?.learner;
  if (learner === undefined) fail("no `learner` (expected the JSON of Booster.save_model)");
  const objective = String(learner.objective?.name);
  if (!SUPPORTED.includes(objective)) fail(`objective ${objective} is not supported (supported: ${SUPPORTED.join(", ")})`);
  const booster = learner.gradient_booster;
  if (booster?.name !== undefined && booster.name !== "gbtree") fail(`booster ${booster.name} is not supported (gbtree only)`);
  const model = booster?.model;
  const trees: XgbTree[] = model?.trees;
  if (!Array.isArray(trees) || trees.length === 0) fail("no trees");
  const lmp = learner.learner_model_param ?? {};
  const numFeature = Number(lmp.num_feature), numClass = Number(lmp.num_class ?? 0);
  if (!(Number.isInteger(numFeature) && numFeature > 0)) fail(`num_feature ${lmp.num_feature}`);
  if (Number(lmp.num_target ?? 1) !== 1) fail(`num_target ${lmp.num_target}: multi-output models are not supported`);
  const multi = objective.startsWith("multi:");
  if (multi && !(numClass >= 2)) fail(`objective ${objective} with num_class ${numClass}`);
  const K = multi ? numClass : 1;
  const treeInfo: number[] = model.tree_info ?? trees.map(() => 0);
  if (treeInfo.length !== trees.length || treeInfo.some((c) => !(Number.isInteger(c) && c >= 0 && c < K))) fail("tree_info does not match the trees and classes");
  // Trees of rounds after best_iteration are ignored, as XGBoost's scikit-learn predict does.
  const perRound = K * Number(model.gbtree_model_param?.num_parallel_tree ?? 1);
  const best = learner.attributes?.best_iteration;
  const used = best === undefined ? trees.length : Math.min(trees.length, (Number(best) + 1) * perRound);
  // Distinct thresholds per feature (float32), and each feature's default directions.
  const thr = Array.from({ length: numFeature }, () => new Set<number>());
  const defaults = Array.from({ length: numFeature }, () => new Set<boolean>());
  trees.slice(0, used).forEach((t, k) => {
    const n = t.left_children?.length;
    if (!(n > 0) || [t.right_children, t.split_indices, t.split_conditions, t.default_left].some((a) => a?.length !== n)) fail(`tree ${k}: node arrays of different lengths`);
    if (Number(t.tree_param?.size_leaf_vector ?? 0) > 1) fail(`tree ${k}: vector leaves`);
    for (let i = 0; i < n; i++) {
      if (t.left_children[i] === -1) continue;
      if ((t.split_type?.[i] ?? 0) !== 0) fail(`tree ${k}, node ${i}: categorical split`);
      const f = t.split_indices[i]!;
      if (!(Number.isInteger(f) && f >= 0 && f < numFeature)) fail(`tree ${k}, node ${i}: split on feature ${f} of ${numFeature}`);
      thr[f]!.add(Math.fround(t.split_conditions[i]!));
      defaults[f]!.add(Boolean(t.default_left[i]));
    }
  });
  const sorted = thr.map((s) => Float64Array.from([...s].sort((a, b) => a - b)));
  const missingRank = defaults.map((d, f) => (d.size === 0 ? 0 : d.size === 2 ? null : d.has(true) ? 0 : sorted[f]!.length));
  const encoder = new RankEncoder(sorted, missingRank);
  if (encoder.qmax > 255) fail(`a feature is compared with ${Math.max(...sorted.map((s) => s.length))} distinct thresholds: its rank needs more than 8 bits`);
  const rankOf = (f: number, t: number): number => sorted[f]!.indexOf(Math.fround(t));
  const out: Tree[] = trees.slice(0, used).map((t, k) => {
    // Renumbered in preorder so that children follow their parent.
    const feature: number[] = [], threshold: number[] = [], left: number[] = [], right: number[] = [], value: number[] = [];
    const visit = (i: number, depth: number): number => {
      if (depth > 64) fail(`tree ${k} is deeper than 64 (or has a cycle)`);
      if (!(Number.isInteger(i) && i >= 0 && i < t.left_children.length)) fail(`tree ${k}: child ${i} out of range`);
      const id = feature.length;
      feature.push(0); threshold.push(0); left.push(-1); right.push(-1);
      for (let o = 0; o < K; o++) value.push(0);
      if (t.left_children[i] === -1) {
        const v = t.split_conditions[i]!;
        if (!Number.isFinite(v)) fail(`tree ${k}: leaf ${i} has value ${v}`);
        value[id * K + treeInfo[k]!] = Math.fround(v);
        return id;
      }
      const f = t.split_indices[i]!;
      feature[id] = f;
      // x < t_k ⇔ rank ≤ k.
      threshold[id] = rankOf(f, t.split_conditions[i]!);
      left[id] = visit(t.left_children[i]!, depth + 1);
      right[id] = visit(t.right_children[i]!, depth + 1);
      return id;
    };
    visit(0, 0);
    return { feature: Int32Array.from(feature), threshold: Int32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float64Array.from(value) };
  });
  // The base margin: base_score through the inverse link (logit for σ, log for exp), as is otherwise.
  const link = OBJECTIVES[objective]!, sigmoid = objective === "binary:logistic" || objective === "reg:logistic";
  const base = baseScores(lmp.base_score, K).map((b) => {
    if (sigmoid && !(b > 0 && b < 1)) fail(`base_score ${b} of ${objective}: expected a probability in (0, 1)`);
    if (link === "exp" && !(b > 0)) fail(`base_score ${b} of ${objective}: expected a positive mean`);
    return sigmoid ? Math.log(b / (1 - b)) : link === "exp" ? Math.log(b) : b;
  });
  let classes: Label[] = Array.from({ length: multi ? K : 2 }, (_, i) => i);
  try {
    const sk = JSON.parse(learner.attributes?.scikit_learn ?? "{}");
    if (Array.isArray(sk.classes_) && sk.classes_.length === classes.length) classes = sk.classes_;
  } catch {
    // No scikit-learn attributes: classes are 0..K−1 as XGBoost encodes them.
  }
  return XGBoostModel.build(objective, classes, encoder, { trees: out, outputs: K, base: Float64Array.from(base), scale: 1 }, options.leafBits);
}
