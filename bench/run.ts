// umbra's benchmarks: PBS latency per named parameter set, key switching, key generation, encryption and
// decryption, key and ciphertext sizes, FFT throughput, multi-core PBS throughput (PbsWorkerPool), the
// compiler (compile time, keygen, FHE and clear latency of four programs at the parameters it chose), umbra/ml
// on the datasets of test/fixtures (float, quantized and FHE scores, agreement, latency, key sizes), and a
// same-run reference: Zama's node-tfhe (TFHE-rs compiled to WebAssembly; keygen, encryption, decryption
// and serialization only — that build has no homomorphic operations).
//
//   node dist/bench/run.js [--json] [--quick] [--only fft,pbs,…] [--runs N] [--out DIR]
//   (npm run bench; umbra bench takes the same options)
//
// Output: one JSON line per result with --json ({"name", "median_ms", …, "n", "unit"}), else readable lines;
// bench/results/latest.json (every result + the machine) and BENCHMARKS.md are written at the end, under
// --out or the current working directory (`npm run bench` runs in the repository root).
// No result is asserted on: numbers depend on the machine and on whatever else runs on it.
// This file is the entry and the order of the sections; each section lives in bench/sections/.
import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { NAMED_PARAMETER_SETS } from "../src/tfhe/index.js";
import { compareResults } from "./compare.js";
import { makeEmitter, type BenchResult } from "./harness.js";
import { runIsolated } from "./isolate.js";
import { describeMachine, loadAverage } from "./machine.js";
import { BENCH_SECTIONS, type BenchOptions, type BenchSection, type Ctx, makePlan, parseSelection } from "./plan.js";
import { mergeWithPrevious, writeReport, type BenchReport } from "./report.js";
import { benchCompiler } from "./sections/compiler.js";
import { benchDeploy } from "./sections/deploy.js";
import { benchEncryption, benchEncryption8Bit } from "./sections/encryption.js";
import { benchDemos } from "./sections/demos.js";
import { benchFft } from "./sections/fft.js";
import { benchMl } from "./sections/ml.js";
import { benchReference } from "./sections/node-tfhe.js";
import { benchSet } from "./sections/pbs.js";
import { benchThroughput } from "./sections/throughput.js";
import { benchMultiBit } from "./sections/multibit.js";
import { benchRelaxedSimd } from "./sections/relaxed.js";

export type { BenchResult, Section } from "./harness.js";
export type { MachineDescription } from "./machine.js";
export { BENCH_SECTIONS, parseSelection, type BenchOptions, type BenchSection } from "./plan.js";
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

  const runs = (section: BenchSection): boolean => opts.only === undefined || opts.only.includes(section);
  if (runs("fft")) benchFft(ctx);
  if (runs("pbs")) {
    for (const p of plan.sets) benchSet(ctx, p);
    log("classic vs multi-bit PBS, interleaved");
    benchMultiBit(plan.multiBitSets, ctx.emit, plan.speedRounds);
    benchRelaxedSimd(plan.main, ctx.emit, plan.speedRounds);
  }
  if (runs("encryption")) {
    benchEncryption(ctx);
    if (plan.encrypt8Bit) benchEncryption8Bit(ctx);
  }
  if (runs("throughput")) await benchThroughput(ctx);
  ctx.mainKeys = undefined;
  if (runs("compiler")) await benchCompiler(ctx);
  if (runs("ml")) await benchMl(ctx);
  if (runs("node-tfhe")) benchReference(ctx);
  if (runs("demos")) await benchDemos(ctx);
  // Servers and workers in child processes: not part of the tiny test mode.
  if (runs("deploy") && plan.mode !== "tiny") await benchDeploy(ctx);
  if (runs("pbs")) {
    for (const p of plan.isolatedSets) {
      log(`${p.name}: in a child process (fresh kernel memory; this takes a few minutes)`);
      await runIsolated(ctx, p);
    }
  }
  for (const r of compareResults(results, plan.main.name)) ctx.emit(r);

  const machine = { ...describeMachine(), loadAverage: { start: loadStart, end: loadAverage() } };
  const report: BenchReport = { mode: plan.mode, machine, results };
  const write = opts.write ?? (!opts.tiny || opts.outDir !== undefined);
  if (write) {
    // A run of some sections replaces those sections' results in the last report and keeps the others.
    const files = writeReport(opts.only === undefined ? report : mergeWithPrevious(report, opts.outDir ?? process.cwd()), opts.outDir ?? process.cwd(), opts.only);
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

/** `node dist/bench/run.js [--json] [--quick] [--only a,b] [--runs N] [--out DIR]` (what `npm run bench` runs). */
async function main(args: readonly string[]): Promise<void> {
  const usage = `usage: node dist/bench/run.js [--json] [--quick] [--only ${BENCH_SECTIONS.join(",")}] [--runs N] [--out DIR]`;
  const valued = ["--only", "--runs", "--out", "--only-set"];
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const unknown = args.filter((a, i) => !["--json", "--quick", ...valued].includes(a) && !valued.includes(args[i - 1] ?? ""));
  const missing = valued.filter((f) => args.includes(f) && (value(f) === undefined || value(f)!.startsWith("--")));
  if (unknown.length > 0 || missing.length > 0) {
    process.stderr.write(`${usage}\n${unknown.length > 0 ? `unknown argument(s): ${unknown.join(" ")}` : `${missing.join(", ")} needs a value`}\n`);
    process.exit(2);
  }
  let selection;
  try {
    selection = parseSelection(value("--only"), value("--runs"));
  } catch (e) {
    process.stderr.write(`${usage}\n${(e as Error).message}\n`);
    process.exit(2);
  }
  const onlySet = value("--only-set"), outDir = value("--out");
  await runBenchmarks({
    json: args.includes("--json"), quick: args.includes("--quick"), ...selection,
    ...(outDir !== undefined ? { outDir } : {}), ...(onlySet !== undefined ? { onlySet, write: false } : {}),
  });
}

if (isMain()) await main(process.argv.slice(2));
