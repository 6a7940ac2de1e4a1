// The demos (src/demos), through their deployed halves at the parameters the compiler chose:
//  - the diagnosis model: client encrypt, server run, client decrypt per diagnosis; test accuracy in the
//    clear and in FHE; and, for the choice of model, the tree models' FHE time per diagnosis and accuracy
//    (full mode only: seconds per row each);
//  - the image filters: server time per image by image size, and for the tone curve (the one with lookups)
//    with 1 and 2 worker threads; request and response sizes.
import { PbsWorkerPool, deserializeEvaluationKeys } from "../../src/tfhe/index.js";
import { type Circuit, type Tensor } from "../../src/compiler/index.js";
import { DecisionTreeClassifier, RandomForestClassifier, XGBClassifier, accuracy } from "../../src/ml/index.js";
import { FILTERS, applyFilterClear, filterInput, finishFilter, sampleImage } from "../../src/demos/filters.js";
import { compileFilter } from "../../src/demos/filter-circuits.js";
import { trainDiagnosisModel } from "../../src/demos/health.js";
import { distinctTrainingRows, symptomRows } from "../../src/demos/symptoms.js";
import { fmtBytes, fmtMs } from "../format.js";
import { type BenchResult, errorText, latency, sample, sampleAsync, size as sizeResult } from "../harness.js";
import type { Ctx } from "../plan.js";

async function benchDiagnosis(ctx: Ctx): Promise<void> {
  const { emit, plan } = ctx;
  const reps = plan.demos.reps;
  const model = trainDiagnosisModel();
  try {
    const { X, y } = symptomRows("test");
    const { client, server } = model.deployment();
    client.keygen();
    const row = [X[0]!];
    const params = model.statistics.parameters.name;
    let request = client.encrypt(row).requests[0]!;
    emit(latency("demos/diagnosis/encrypt", "demos", sample(() => { request = client.encrypt(row).requests[0]!; }, reps), { params, note: "one person's 132 symptoms" }));
    let response = server.run(request, undefined);
    emit(latency("demos/diagnosis/server", "demos", sample(() => { response = server.run(request, undefined); }, reps), { params, pbs_count: 0 }));
    emit(latency("demos/diagnosis/decrypt", "demos", sample(() => client.predictProba([response], 1), reps), { params, note: "41 scores, then the softmax" }));
    emit(sizeResult("demos/diagnosis/request-bytes", request.length, "serialize", { section: "demos" }));
    emit(sizeResult("demos/diagnosis/response-bytes", response.length, "serialize", { section: "demos" }));
    emit({ name: "demos/diagnosis/accuracy-clear", section: "demos", value: accuracy(y, model.predictFloat(X)), n: X.length, unit: "accuracy" });
    const fhe = await model.predict(X, { fhe: "execute" });
    emit({ name: "demos/diagnosis/accuracy-fhe", section: "demos", value: accuracy(y, fhe), n: X.length, unit: "accuracy" });
  } finally {
    await model.close();
  }
}

/** The alternatives to the linear model: FHE time per diagnosis (2 workers) and test accuracy, clear and FHE. */
async function benchTreeModels(ctx: Ctx): Promise<void> {
  const { X, y } = distinctTrainingRows(), test = symptomRows("test");
  const rows = ctx.plan.demos.treeRows;
  const candidates = [
    { name: "decision-tree", what: "decision tree, depth 12", make: () => new DecisionTreeClassifier({ nBits: 1, maxDepth: 12 }) },
    { name: "xgboost", what: "gradient boosting, 3 rounds × 41 trees of depth 3", make: () => new XGBClassifier({ nBits: 1, maxDepth: 3, nEstimators: 3 }) },
    { name: "random-forest", what: "random forest, 10 trees of depth 8", make: () => new RandomForestClassifier({ nBits: 1, maxDepth: 8, nEstimators: 10, randomState: 1 }) },
  ];
  for (const c of candidates) {
    const m = c.make().fit(X, y).compile(X, { batchSize: 1 });
    try {
      const s = m.statistics;
      const clear = accuracy(test.y, await m.predict(test.X));
      const t0 = performance.now();
      const fhe = await m.predict(test.X.slice(0, rows), { fhe: "execute", threads: 2 });
      const ms = (performance.now() - t0) / rows;
      const agree = fhe.filter((v, i) => v === test.y[i]).length;
      ctx.emit({ name: `demos/diagnosis-model/${c.name}`, section: "demos", median_ms: Math.round(ms), params: s.parameters.name, pbs_count: s.pbsCount,
        note: `${c.what}; test accuracy (quantized, clear) ${clear.toFixed(3)}; FHE: ${agree}/${rows} rows right, 2 workers, keygen excluded`, n: rows, unit: "ms" });
    } catch (e) {
      ctx.emit({ name: `demos/diagnosis-model/${c.name}`, section: "demos", error: errorText(e), n: 0, unit: "ms" });
    } finally {
      await m.close();
    }
  }
}

async function benchFilter(ctx: Ctx, circuit: Circuit, id: string, size: number): Promise<void> {
  const { emit, plan } = ctx;
  const filter = FILTERS.find((f) => f.id === id)!;
  const img = sampleImage(size);
  const client = circuit.client, server = circuit.server;
  client.keygen();
  const input = filterInput(filter, img);
  const request = client.encrypt(input);
  const params = circuit.statistics.parameters.name, pbs = circuit.statistics.pbsCount;
  const tag = `demos/filter/${id}/${size}`;
  emit(latency(`${tag}/encrypt`, "demos", sample(() => client.encrypt(input), plan.demos.reps), { params }));
  let response: Uint8Array;
  if (server.spec.linearOnly) {
    response = server.run(request, undefined);
    emit(latency(`${tag}/server-1`, "demos", sample(() => { response = server.run(request, undefined); }, plan.demos.reps), { params, pbs_count: 0 }));
  } else {
    const keys = deserializeEvaluationKeys(client.serializedEvaluationKeys()!, client.params);
    response = new Uint8Array();
    for (const threads of plan.demos.threads) {
      const pool = await PbsWorkerPool.create(keys, { threads });
      try {
        const s = await sampleAsync(async () => { response = await server.runAsync(request, pool); }, plan.demos.toneReps, 0);
        emit(latency(`${tag}/server-${threads}`, "demos", s, { params, pbs_count: pbs, note: `${threads} worker thread${threads > 1 ? "s" : ""}` }));
      } finally {
        await pool.close();
      }
    }
  }
  const [t] = client.decrypt(response!) as Tensor[];
  const ok = finishFilter(filter, t!.data, size).pixels.every((v, i) => v === applyFilterClear(filter, img).pixels[i]);
  emit(sizeResult(`${tag}/request-bytes`, request.length, "serialize", { section: "demos" }));
  emit(sizeResult(`${tag}/response-bytes`, response!.length, "serialize", { section: "demos", ...(ok ? {} : { error: "the decrypted image differs from the clear filter" }) }));
}

export async function benchDemos(ctx: Ctx): Promise<void> {
  const { plan, log } = ctx;
  if (plan.demos.diagnosis) {
    log("demos: the diagnosis model");
    try {
      await benchDiagnosis(ctx);
    } catch (e) {
      ctx.emit({ name: "demos/diagnosis/server", section: "demos", error: errorText(e), n: 0, unit: "ms" });
    }
  }
  if (plan.demos.treeRows > 0) {
    log("demos: tree models for the diagnosis, for comparison (seconds per row)");
    await benchTreeModels(ctx);
  }
  for (const { id, sizes } of plan.demos.filters) {
    for (const size of sizes) {
      log(`demos: filter ${id} on ${size}×${size}`);
      const circuit = compileFilter(FILTERS.find((f) => f.id === id)!, size);
      try {
        await benchFilter(ctx, circuit, id, size);
      } catch (e) {
        ctx.emit({ name: `demos/filter/${id}/${size}/server-1`, section: "demos", error: errorText(e), n: 0, unit: "ms" });
      } finally {
        await circuit.close();
      }
    }
  }
}

/** The "Demos" part of BENCHMARKS.md (empty when the section did not run). */
export function renderDemos(results: readonly BenchResult[], table: (head: readonly string[], rows: readonly (readonly string[])[]) => string): string[] {
  const mine = results.filter((r) => r.section === "demos");
  if (mine.length === 0) return [];
  const by = new Map(mine.map((r) => [r.name, r]));
  const lat = (name: string): string => {
    const r = by.get(name);
    return r === undefined ? "—" : r.error !== undefined ? "error" : `${fmtMs(r.median_ms)} (n=${r.n})`;
  };
  const out = ["## Demos", "", "The two demos of `npm start`'s page (src/demos), through their deployed halves at the parameters the " +
    "compiler chose (≥ 128-bit security, p_fail ≤ 2^-64). Encrypt and decrypt are the client's (here in Node; a browser runs the " +
    "same WebAssembly), server is the circuit's run on ciphertexts with evaluation keys only (keygen excluded).", ""];
  const acc = (n: string): string => (by.get(n)?.value === undefined ? "—" : `${(100 * by.get(n)!.value!).toFixed(1)}% (${by.get(n)!.n} rows)`);
  if (by.has("demos/diagnosis/server")) {
    out.push("### Diagnosis from encrypted symptoms", "");
    out.push(table(["model", "parameters", "PBS", "encrypt", "server", "decrypt", "request", "response", "test accuracy, clear", "test accuracy, FHE"], [[
      "logistic regression (132 → 41, 1-bit inputs)", by.get("demos/diagnosis/server")?.params ?? "—", "0",
      lat("demos/diagnosis/encrypt"), lat("demos/diagnosis/server"), lat("demos/diagnosis/decrypt"),
      fmtBytes(by.get("demos/diagnosis/request-bytes")?.value), fmtBytes(by.get("demos/diagnosis/response-bytes")?.value),
      acc("demos/diagnosis/accuracy-clear"), acc("demos/diagnosis/accuracy-fhe"),
    ]]), "");
    const trees = mine.filter((r) => r.name.startsWith("demos/diagnosis-model/"));
    if (trees.length > 0) {
      out.push("The tree models it was chosen over (same data, 1-bit inputs; FHE time per diagnosis with 2 workers):", "");
      out.push(table(["model", "parameters", "PBS per diagnosis", "FHE per diagnosis", "notes"], trees.map((r) => [
        r.name.slice("demos/diagnosis-model/".length), r.params ?? "—", r.pbs_count === undefined ? "—" : String(r.pbs_count),
        r.error !== undefined ? "error" : `${fmtMs(r.median_ms)} (n=${r.n})`, r.error ?? r.note ?? "",
      ])), "");
    }
  }
  const filters = [...new Set(mine.filter((r) => r.name.startsWith("demos/filter/")).map((r) => r.name.split("/").slice(2, 4).join("/")))];
  if (filters.length > 0) {
    out.push("### Encrypted image filters", "");
    out.push("Per image of side × side grey pixels (the page uses 32 × 32). Blur, sharpen and edges: a 3×3 conv2d on the " +
      "edge-padded image, no lookup (the client scales and clips the decrypted sums); tone: a 4-bit lookup per pixel. " +
      "Server with 1 and 2 worker threads: the lookups spread over a PbsWorkerPool.", "");
    out.push(table(["filter", "size", "parameters", "PBS", "encrypt", "server, 1 thread", "server, 2 workers", "request", "response", "equals the clear filter"], filters.map((f) => {
      const [id, size] = f.split("/");
      const tag = `demos/filter/${f}`;
      const s = by.get(`${tag}/server-1`) ?? by.get(`${tag}/server-2`);
      const resp = by.get(`${tag}/response-bytes`);
      return [id!, `${size}×${size}`, s?.params ?? "—", s?.pbs_count === undefined ? "—" : String(s.pbs_count), lat(`${tag}/encrypt`),
        lat(`${tag}/server-1`), by.has(`${tag}/server-2`) ? lat(`${tag}/server-2`) : "— (no lookups)",
        fmtBytes(by.get(`${tag}/request-bytes`)?.value), fmtBytes(resp?.value), resp === undefined ? "—" : resp.error === undefined ? "yes" : "NO"];
    })), "");
  }
  for (const r of mine.filter((r) => r.error !== undefined)) out.push(`- ${r.name}: failed — ${r.error}`);
  return out;
}
