// umbra/ml on real data (test/fixtures): per dataset and model, the held-out score of the float model, of the
// quantized model in the clear, and of real FHE (`predict(X, { fhe: "execute" })`) on the test split or a
// stated random sample of it; how often FHE equals the quantized model; PBS per row; the median latency per
// row with a pool of 1 and of 2 workers (encrypt + evaluate + decrypt, keys made before); the server's
// evaluation time per row; the key sizes. Figures depend on the machine and its load.
import {
  accuracy, DecisionTreeClassifier, KNeighborsClassifier, LogisticRegression, NeuralNetClassifier, NeuralNetRegressor,
  r2Score, Ridge, XGBClassifier, XGBRegressor, type PredictOptions, type Progress,
} from "../../src/ml/index.js";
import type { CircuitStatistics } from "../../src/compiler/index.js";
import { round } from "../format.js";
import { errorText, latency, median, size, type BenchResult } from "../harness.js";
import type { Ctx } from "../plan.js";
import { ImportedCnnDigits } from "./ml-cnn.js";
import { type Dataset, loadDataset, sampleRows, type Split, split } from "./ml-data.js";

type Row = readonly number[];
type Target = number | string;

/** What the benchmark needs of an estimator (every umbra/ml model has it). */
interface Estimator {
  fit(X: Row[], y: never[]): unknown;
  compile(Xcalib: Row[], options?: { batchSize?: number }): unknown;
  predict(X: Row[], options?: PredictOptions): Promise<Target[]>;
  predictFloat(X: Row[]): Target[];
  readonly statistics: CircuitStatistics;
  close(): Promise<void>;
}

export interface MlModel {
  readonly dataset: MlDataset;
  /** Name in the table, e.g. "XGBClassifier (20 trees, depth 3)". */
  readonly name: string;
  /** Short id in result names. */
  readonly id: string;
  readonly make: () => Estimator | KNeighborsClassifier;
  /** FHE on at most this many test rows (full and quick modes); undefined: the whole test split. */
  readonly fheRows?: { readonly full?: number; readonly quick: number };
  /** Rows per circuit run (default 1; the linear models' default is 16). */
  readonly batchSize?: number;
}

export type MlDataset = "breast_cancer" | "iris" | "digits" | "diabetes" | "symptoms";

export const ML_DATASETS: Readonly<Record<MlDataset, { readonly task: "classification" | "regression"; readonly what: string }>> = {
  breast_cancer: { task: "classification", what: "569 × 30, 2 classes; test split: 25% (142 rows), seed 42" },
  iris: { task: "classification", what: "150 × 4, 3 classes; test split: 25% (38 rows), seed 42" },
  digits: { task: "classification", what: "1797 × 64 (8×8 images, 0–16), 10 classes; test split: 25% (449 rows), seed 42" },
  diabetes: { task: "regression", what: "442 × 10, regression (R²); test split: 25% (111 rows), seed 42" },
  symptoms: { task: "classification", what: "132 binary symptoms, 41 diseases; its own test file (41 rows), trained on the 304 distinct training rows" },
};

/** Slow models run FHE on a random sample of 50 test rows in full mode (fewer in quick mode). */
const TARGET = { full: 50, quick: 10 } as const;
const SLOW = { full: 50, quick: 5 } as const;

/** The models of the table, in order. */
export const ML_MODELS: readonly MlModel[] = [
  { dataset: "breast_cancer", id: "logreg", name: "LogisticRegression", make: () => new LogisticRegression(), batchSize: 16 },
  { dataset: "breast_cancer", id: "xgb20x3", name: "XGBClassifier (20 trees, depth 3)", make: () => new XGBClassifier({ nEstimators: 20, maxDepth: 3 }), fheRows: TARGET },
  {
    dataset: "breast_cancer", id: "mlp", name: "NeuralNetClassifier 30→8→1 (6-bit weights, 4-bit activations)",
    make: () => new NeuralNetClassifier({ hiddenLayerSizes: [8], weightBits: 6, activationBits: 4, learningRate: 0.003, weightDecay: 0.001 }), fheRows: SLOW,
  },
  { dataset: "breast_cancer", id: "knn", name: "KNeighborsClassifier (k = 5)", make: () => new KNeighborsClassifier() },
  { dataset: "iris", id: "logreg", name: "LogisticRegression (multinomial)", make: () => new LogisticRegression(), batchSize: 16 },
  { dataset: "iris", id: "tree", name: "DecisionTreeClassifier (depth 3)", make: () => new DecisionTreeClassifier({ maxDepth: 3 }) },
  { dataset: "iris", id: "xgb10x3", name: "XGBClassifier (10 rounds, depth 3)", make: () => new XGBClassifier({ nEstimators: 10, maxDepth: 3 }), fheRows: SLOW },
  { dataset: "iris", id: "mlp", name: "NeuralNetClassifier 4→16→3", make: () => new NeuralNetClassifier(), fheRows: SLOW },
  { dataset: "digits", id: "logreg", name: "LogisticRegression (multinomial)", make: () => new LogisticRegression(), batchSize: 16, fheRows: { quick: 50 } },
  {
    dataset: "digits", id: "mlp", name: "NeuralNetClassifier 64→32→10 (4-bit inputs and weights, 5-bit lookups)",
    make: () => new NeuralNetClassifier({ hiddenLayerSizes: [32], nBits: 4, weightBits: 4, activationBits: 3, lookupBits: 5, epochs: 30 }), fheRows: TARGET,
  },
  {
    dataset: "digits", id: "cnn", name: "imported ONNX CNN: Conv 3×3 1→4, Relu, AvgPool 2, Gemm 36→10 (6-bit inputs, 5-bit weights, 4-bit lookups)",
    make: () => new ImportedCnnDigits(), fheRows: SLOW,
  },
  { dataset: "diabetes", id: "ridge", name: "Ridge", make: () => new Ridge(), batchSize: 16 },
  { dataset: "diabetes", id: "xgb20x3", name: "XGBRegressor (20 trees, depth 3)", make: () => new XGBRegressor({ nEstimators: 20, maxDepth: 3 }), fheRows: SLOW },
  { dataset: "diabetes", id: "mlp", name: "NeuralNetRegressor 10→16→1", make: () => new NeuralNetRegressor(), fheRows: SLOW },
  { dataset: "symptoms", id: "logreg", name: "LogisticRegression (multinomial, 41 classes)", make: () => new LogisticRegression(), batchSize: 16 },
];

/** Rows of the 1-worker latency measurement (after one unmeasured row). */
const ONE_THREAD_ROWS = { full: 2, quick: 1, tiny: 2 } as const;

function load(ds: MlDataset): Split | undefined {
  if (ds === "symptoms") {
    const train = loadDataset("symptoms_train.csv"), test = loadDataset("symptoms_test.csv");
    return train && test ? { Xtrain: train.X, ytrain: train.y, Xtest: test.X, ytest: test.y } : undefined;
  }
  const d: Dataset | undefined = loadDataset(`${ds}.csv`);
  return d && split(d, 0.25, 42);
}

function score(task: "classification" | "regression", y: readonly Target[], p: readonly Target[]): number {
  return task === "classification" ? accuracy(y, p) : r2Score(y as number[], p as number[]);
}

/** Runs `rows` in FHE with a pool of `threads`; per-row latency (ms) and server evaluation time from each batch. */
async function timedExecute(m: Estimator, X: Row[], threads: number): Promise<{ pred: Target[]; perRow: number[]; serverPerRow: number[]; cpuPerRow: number[] }> {
  const perRow: number[] = [], serverPerRow: number[] = [], cpuPerRow: number[] = [];
  let last = performance.now(), done = 0, cpu = process.cpuUsage();
  const onProgress = (p: Progress): void => {
    const now = performance.now(), rows = p.done - done;
    perRow.push((now - last) / rows);
    // CPU time of the process, worker threads included: what the row cost whatever else runs.
    const used = process.cpuUsage(cpu);
    cpuPerRow.push((used.user + used.system) / 1000 / rows);
    cpu = process.cpuUsage();
    const measured = m.statistics.measured;
    if (measured !== undefined) serverPerRow.push(measured.evaluateMs / rows);
    last = now;
    done = p.done;
  };
  const pred = await m.predict(X, { fhe: "execute", threads, onProgress });
  return { pred, perRow, serverPerRow, cpuPerRow };
}

export async function benchMl(ctx: Ctx): Promise<void> {
  const { plan, emit, log } = ctx;
  const mode = plan.mode;
  const models = mode === "tiny" ? ML_MODELS.filter((m) => m.dataset === "breast_cancer" && m.id === "logreg") : ML_MODELS;
  const splits = new Map<MlDataset, Split | undefined>();
  for (const spec of models) {
    const prefix = `ml/${spec.dataset}/${spec.id}`;
    if (!splits.has(spec.dataset)) splits.set(spec.dataset, load(spec.dataset));
    const s = splits.get(spec.dataset);
    if (s === undefined) {
      emit({ name: `${prefix}/float`, section: "ml", error: `dataset ${spec.dataset} not found in test/fixtures (run the benchmark from the repository)`, n: 0, unit: "score" });
      continue;
    }
    const task = ML_DATASETS[spec.dataset].task;
    const metric = task === "classification" ? "accuracy" : "R²";
    const model = spec.make();
    try {
      log(`${prefix}: fit and compile`);
      model.fit(s.Xtrain, s.ytrain as never[]);
      const batchSize = spec.batchSize ?? 1;
      if (model instanceof KNeighborsClassifier) model.compile(s.Xtrain);
      else model.compile(s.Xtrain, { batchSize });
      const floatPred = model.predictFloat(s.Xtest);
      const quantPred = await model.predict(s.Xtest);
      emit({ name: `${prefix}/float`, section: "ml", value: round(score(task, s.ytest, floatPred)), note: metric, n: s.Xtest.length, unit: "score" });
      emit({ name: `${prefix}/quantized`, section: "ml", value: round(score(task, s.ytest, quantPred)), note: metric, n: s.Xtest.length, unit: "score" });
      if (model instanceof KNeighborsClassifier) {
        emit({ name: `${prefix}/fhe`, section: "ml", error: "not built: KNeighborsClassifier runs in the clear only (fhe: \"execute\" is refused with MlUnsupportedError)", n: 0, unit: "score" });
        continue;
      }
      const m = model as Estimator;
      const limit = mode === "tiny" ? 4 : mode === "quick" ? spec.fheRows?.quick : spec.fheRows?.full;
      const rows = sampleRows(s.Xtest.length, limit ?? s.Xtest.length, 7);
      const X = rows.map((i) => s.Xtest[i]!), y = rows.map((i) => s.ytest[i]!), want = rows.map((i) => quantPred[i]!);
      const stats = m.statistics;
      const sampleNote = rows.length === s.Xtest.length ? "the whole test split" : `a random sample of ${rows.length} test rows (seed 7)`;
      // Keys, pool and tables are made by a first row, left out of the timings.
      log(`${prefix}: FHE on ${sampleNote}, 2 workers`);
      await m.predict(X.slice(0, 1), { fhe: "execute", threads: 2 });
      const two = await timedExecute(m, X, 2);
      const agree = two.pred.filter((p, i) => p === want[i]).length / rows.length;
      emit({ name: `${prefix}/fhe`, section: "ml", value: round(score(task, y, two.pred)), note: `${metric} on ${sampleNote}`, n: rows.length, unit: "score" });
      emit({ name: `${prefix}/agreement`, section: "ml", value: round(agree), note: "FHE prediction = quantized prediction (fraction of rows)", n: rows.length, unit: "score" });
      const extra: Partial<BenchResult> = {
        section: "ml", params: stats.parameters.name, bits: stats.bits, pbs_count: stats.pbsCount / batchSize,
        ...(two.serverPerRow.length > 0 ? { server_ms: round(median(two.serverPerRow)) } : {}),
      };
      emit(latency(`${prefix}/latency-2-workers`, "ml", two.perRow, { ...extra, cpu_ms: round(median(two.cpuPerRow)), note: batchSize > 1 ? `per row, ${batchSize} rows per run` : "per row" }));
      // Without lookups there is no pool: one worker or two is the same run (already measured above).
      if (stats.pbsCount > 0) {
        const k = Math.min(rows.length, ONE_THREAD_ROWS[mode]);
        log(`${prefix}: FHE on ${k} rows, 1 worker`);
        await m.predict(X.slice(0, 1), { fhe: "execute", threads: 1 });
        const one = await timedExecute(m, X.slice(0, k), 1);
        const server1 = one.serverPerRow.length > 0 ? { server_ms: round(median(one.serverPerRow)) } : {};
        emit(latency(`${prefix}/latency-1-thread`, "ml", one.perRow, { ...extra, ...server1, cpu_ms: round(median(one.cpuPerRow)) }));
      }
      // The core's latency model (fitted to PBS medians of an unloaded run of this machine), per row: what
      // the two measurements would be without other work on the machine.
      if (stats.pbsCount > 0) {
        emit({ name: `${prefix}/estimate-1-thread`, section: "ml", median_ms: round(stats.estimatedMs.oneThread / batchSize), note: "latency model (estimateLatency), per row", n: 1, unit: "ms" });
        emit({ name: `${prefix}/estimate-2-workers`, section: "ml", median_ms: round(stats.estimatedMs.pool(2) / batchSize), note: "latency model (estimateLatency), per row", n: 1, unit: "ms" });
      }
      emit(size(`${prefix}/evaluation-keys`, stats.sizes.evaluationKeys, "serialize", { section: "ml" }));
      emit(size(`${prefix}/server-key-memory`, stats.sizes.serverKeyMemory, "memory", { section: "ml" }));
    } catch (e) {
      emit({ name: `${prefix}/fhe`, section: "ml", error: errorText(e), n: 0, unit: "score" });
    } finally {
      if (!(model instanceof KNeighborsClassifier)) await (model as Estimator).close();
    }
  }
}
