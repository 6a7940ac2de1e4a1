// umbra's benchmarks: PBS latency per named parameter set, key switching, key generation, encryption and
// decryption, key and ciphertext sizes, FFT throughput, multi-core PBS throughput (PbsWorkerPool), the
// compiler (compile time, keygen, FHE and clear latency of four programs at the parameters it chose), and a
// same-run reference: Zama's node-tfhe (TFHE-rs compiled to WebAssembly; keygen, encryption, decryption
// and serialization only — that build has no homomorphic operations).
//
//   node dist/bench/run.js [--json] [--quick]        (npm run bench; umbra bench [--json] [--quick])
//
// Output: one JSON line per result with --json ({"name", "median_ms", …, "n", "unit"}), else readable lines;
// bench/results/latest.json (every result + the machine) and BENCHMARKS.md are rewritten at the end.
// No result is asserted on: numbers depend on the machine and on whatever else runs on it.
// This file is the entry and the order of the sections; each section lives in bench/sections/.
import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { NAMED_PARAMETER_SETS } from "../src/tfhe/index.js";
import { compareResults } from "./compare.js";
import { makeEmitter, type BenchResult } from "./harness.js";
import { runIsolated } from "./isolate.js";
import { describeMachine, loadAverage, packageRoot } from "./machine.js";
import { makePlan, type BenchOptions, type Ctx } from "./plan.js";
import { writeReport, type BenchReport } from "./report.js";
import { benchCompiler } from "./sections/compiler.js";
import { benchEncryption, benchEncryption8Bit } from "./sections/encryption.js";
import { benchFft } from "./sections/fft.js";
import { benchReference } from "./sections/node-tfhe.js";
import { benchSet } from "./sections/pbs.js";
import { benchThroughput } from "./sections/throughput.js";

export type { BenchResult, Section } from "./harness.js";
export type { MachineDescription } from "./machine.js";
export type { BenchOptions } from "./plan.js";
export type { BenchReport } from "./report.js";
export { describeMachine } from "./machine.js";
export { renderMarkdown } from "./report.js";

export async function runBenchmarks(opts: BenchOptions): Promise<BenchReport> {
  const json = opts.json;
  const out = opts.out ?? ((line: string) => { process.stdout.write(line + "\n"); });
  const log = opts.log ?? (json ? (line: string) => { process.stderr.write(line + "\n"); } : (line: string) => { process.stdout.write(`· ${line}\n`); });
  const plan = makePlan(opts);
  const loadStart = loadAverage();
  const results: BenchResult[] = [];
  const ctx: Ctx = { plan, emit: makeEmitter(json, out, results), log };

  if (opts.onlySet) {
    const p = NAMED_PARAMETER_SETS.map((s) => s.params).find((q) => q.name === opts.onlySet);
    if (!p) throw new RangeError(`unknown parameter set ${opts.onlySet}`);
    benchSet(ctx, p);
    return { mode: plan.mode, machine: describeMachine(), results };
  }

  benchFft(ctx);
  for (const p of plan.sets) benchSet(ctx, p);
  benchEncryption(ctx);
  if (plan.encrypt8Bit) benchEncryption8Bit(ctx);
  await benchThroughput(ctx);
  ctx.mainKeys = undefined;
  await benchCompiler(ctx);
  benchReference(ctx);
  for (const p of plan.isolatedSets) {
    log(`${p.name}: in a child process (fresh kernel memory; this takes a few minutes)`);
    await runIsolated(ctx, p);
  }
  for (const r of compareResults(results, plan.main.name)) ctx.emit(r);

  const machine = { ...describeMachine(), loadAverage: { start: loadStart, end: loadAverage() } };
  const report: BenchReport = { mode: plan.mode, machine, results };
  const write = opts.write ?? (!opts.tiny || opts.outDir !== undefined);
  if (write) {
    const files = writeReport(report, opts.outDir ?? packageRoot());
    log(`wrote ${files.markdown} and ${files.json}`);
  }
  return report;
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return pathToFileURL(realpathSync(arg)).href === pathToFileURL(realpathSync(fileURLToPath(import.meta.url))).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  const only = args.indexOf("--only-set");
  const unknown = args.filter((a, i) => !["--json", "--quick", "--only-set"].includes(a) && !(only >= 0 && i === only + 1));
  if (unknown.length > 0) {
    process.stderr.write(`usage: node dist/bench/run.js [--json] [--quick]\nunknown argument(s): ${unknown.join(" ")}\n`);
    process.exit(2);
  }
  await runBenchmarks({
    json: args.includes("--json"), quick: args.includes("--quick"), ...(only >= 0 ? { onlySet: args[only + 1], write: false } : {}),
  });
}
