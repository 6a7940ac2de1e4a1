// Multi-core PBS throughput at the main set: a batch on the main thread, then through PbsWorkerPool with
// 1 and 2 workers (CPU time ÷ wall time shows whether the workers really ran in parallel), and the ratios;
// the pool's 1- and 2-worker throughput again at a wider set (6 bits), whose key no cache holds.
import os from "node:os";
import { ClientKey, lookupTable, PbsWorkerPool, ServerKey, type EvaluationKeys, type LweBatch, type TfheParameters } from "../../src/tfhe/index.js";
import { round } from "../format.js";
import { median, sample, sampleAsync, type BenchResult } from "../harness.js";
import type { Ctx } from "../plan.js";

export async function benchThroughput(ctx: Ctx): Promise<void> {
  const { plan } = ctx;
  const main = ctx.mainKeys ?? (() => { const c = ClientKey.generate(plan.main); return { client: c, keys: c.evaluationKeys() }; })();
  await throughputAt(ctx, plan.main, main.client, main.keys, plan.throughputBatch, true);
  if (plan.throughputWide !== undefined) {
    const { params, batch } = plan.throughputWide;
    ctx.log(`${params.name}: key generation for the throughput section`);
    const client = ClientKey.generate(params);
    await throughputAt(ctx, params, client, client.evaluationKeys(), batch, false);
  }
}

// Pool throughput at one set: a batch of B on the main thread (withMain), then with 1 and 2 workers.
async function throughputAt(ctx: Ctx, p: TfheParameters, client: ClientKey, keys: EvaluationKeys, B: number, withMain: boolean): Promise<void> {
  const { plan, emit, log } = ctx;
  const bits = p.messageBits + p.carryBits;
  const xs = Array.from({ length: B }, (_, i) => i % 2 ** bits);
  const ct = client.encrypt(xs);
  const f = (x: number) => (3 * x + 1) % 2 ** bits;
  const want = xs.map(f).join(",");
  const tp = (name: string, samples: number[], extra: Partial<BenchResult>): BenchResult => {
    const med = median(samples);
    return {
      name, section: "throughput", median_ms: round(med), min_ms: round(Math.min(...samples)), max_ms: round(Math.max(...samples)),
      value: round(B / (med / 1000)), params: p.name, batch: B, ...extra, n: samples.length, unit: "PBS/s",
    };
  };

  const lut = lookupTable(f, { inputEncoding: client.encoding, polynomialSize: p.polynomialSize });
  let mainTp: number | undefined;
  if (withMain) {
    log(`${p.name}: PBS throughput, batch of ${B}, main thread`);
    const server = new ServerKey(keys);
    try {
      let out!: LweBatch;
      const s = sample(() => { out = server.bootstrap(ct, lut); }, Math.max(1, plan.throughputReps - 1), 0);
      const ok = client.decrypt(out).join(",") === want;
      const r = tp(`throughput/${p.name}/main-thread`, s, { note: `ServerKey on the main thread (no worker)${ok ? "" : "; WARNING: wrong results"}` });
      mainTp = r.value;
      emit(r);
    } finally {
      server.free();
    }
  }

  const perThreads = new Map<number, number>();
  for (const threads of [1, 2]) {
    log(`${p.name}: PBS throughput, batch of ${B}, ${threads} worker${threads > 1 ? "s" : ""}`);
    const t0 = performance.now();
    const pool = await PbsWorkerPool.create(keys, { threads });
    const startMs = performance.now() - t0;
    try {
      await pool.bootstrap(ct.slice(0, Math.min(B, 2 * threads)), lut); // warm-up of every worker
      let out!: LweBatch;
      const cpu0 = process.cpuUsage();
      const s = await sampleAsync(async () => { out = await pool.bootstrap(ct, lut); }, plan.throughputReps, 0);
      const cpu = process.cpuUsage(cpu0);
      const cpuPerWall = ((cpu.user + cpu.system) / 1000) / s.reduce((a, b) => a + b, 0);
      const ok = client.decrypt(out).join(",") === want;
      const r = tp(`throughput/${p.name}/${threads}-worker${threads > 1 ? "s" : ""}`, s, {
        cpu_per_wall: round(cpuPerWall, 3),
        note: `PbsWorkerPool with ${threads} thread${threads > 1 ? "s" : ""} (pool start ${round(startMs)} ms, not included); ` +
          `cpu_per_wall = CPU time of all threads ÷ wall time (≈ ${threads} when the workers really ran in parallel)` +
          (ok ? "" : "; WARNING: wrong results"),
      });
      perThreads.set(threads, r.value!);
      emit(r);
    } finally {
      await pool.close();
    }
  }
  const one = perThreads.get(1), two = perThreads.get(2);
  if (one && two) {
    emit({
      name: `throughput/${p.name}/ratio-2-vs-1-workers`, section: "throughput", value: round(two / one, 3), params: p.name, batch: B,
      note: `PBS/s with 2 workers ÷ PBS/s with 1 worker (same run; ${os.availableParallelism()} logical cores available)`,
      n: 1, unit: "x",
    });
  }
  if (one && mainTp) {
    emit({
      name: `throughput/${p.name}/ratio-1-worker-vs-main-thread`, section: "throughput", value: round(one / mainTp, 3), params: p.name, batch: B,
      note: "PBS/s of a 1-worker pool ÷ PBS/s on the main thread (the cost of the message passing)", n: 1, unit: "x",
    });
  }
}
