#!/usr/bin/env node
// The `umbra` command.
import { Command } from "commander";
import { runDemo } from "./demo.js";
import { addDeployCommands } from "./deploy.js";
import { NAMED_PARAMETER_SETS, checkSecurity, pbsFailureProbability, bootstrapKeyBytes, keyswitchKeyBytes } from "../tfhe/index.js";

const program = new Command();
program.name("umbra").description("Fully homomorphic encryption (TFHE) in TypeScript").version("0.1.0");

program.command("demo").description("run real encrypted computations end to end and an encrypted prediction over HTTP, then serve the demo page (encrypted diagnosis and image filters) until Ctrl-C")
  .option("--no-predict", "skip the prediction over HTTP (the model, the server process and the client)")
  .option("--exit", "end after the checks, without serving the demo page (scripts and CI)")
  .option("--page-only", "skip the checks: serve the demo page straight away")
  .option("--port <n>", "the demo page's port (0: a free one)", "8080")
  .option("--host <host>", "the interface the demo page listens on", "127.0.0.1")
  .option("--dir <dir>", "where the demo's bundles and uploaded evaluation keys are kept (default: umbra-demo-<user> in the temp directory)")
  .action(async (o: { predict: boolean; exit?: boolean; pageOnly?: boolean; port: string; host: string; dir?: string }) => {
    if (o.pageOnly !== true) {
      const { ok } = runDemo();
      let predicted = true;
      if (o.predict) {
        // Loaded here: the ML and deployment layers (and Fastify) only when the prediction runs.
        const { runPredictionDemo } = await import("./demo-predict.js");
        predicted = (await runPredictionDemo(console.log)).ok;
        console.log(predicted ? "OK: the encrypted prediction matches the clear model" : "MISMATCH in the encrypted prediction");
      }
      if (!ok || !predicted) {
        process.exitCode = 1;
        return;
      }
    }
    if (o.exit === true) return;
    const { serveDemoPage } = await import("./demo-page.js");
    try {
      process.exitCode = await serveDemoPage({ port: Number(o.port), host: o.host, dir: o.dir, log: console.log });
    } catch (e) {
      program.error(`umbra demo: ${(e as Error).message}`, { exitCode: 1 });
    }
  });

program.command("params").description("list the named parameter sets: security, p_fail per PBS at the squared norm each is sized for, key sizes")
  .option("--json", "JSON lines")
  .action((opts: { json?: boolean }) => {
    for (const s of NAMED_PARAMETER_SETS) {
      const p = s.params;
      const sec = checkSecurity(p);
      const row = {
        name: p.name, bits: p.messageBits + p.carryBits, n: p.lweDimension, k: p.glweDimension, N: p.polynomialSize,
        pbs: `${p.pbsBaseLog}x${p.pbsLevel}`, ks: `${p.ksBaseLog}x${p.ksLevel}`,
        securityBits: Math.floor(Math.min(sec.lwe.bits, sec.glwe.bits)),
        maxNorm2: s.maxNorm2,
        log2PFail: Number(pbsFailureProbability(p, s.maxNorm2).log2.toFixed(1)),
        bskMiB: Number((bootstrapKeyBytes(p) / 2 ** 20).toFixed(1)), kskMiB: Number((keyswitchKeyBytes(p) / 2 ** 20).toFixed(1)),
      };
      console.log(opts.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${v}`).join("  "));
    }
  });

program.command("bench").description("run the benchmarks (as npm run bench); writes BENCHMARKS.md and bench/results/latest.json under --out or the current directory")
  .option("--json", "print results as JSON lines")
  .option("--quick", "fewer repetitions and parameter sets")
  .option("--only <sections>", "comma-separated sections to run: fft, pbs, encryption, throughput, compiler, ml, node-tfhe, demos, deploy (a partial run of deploy replaces only its section in BENCHMARKS.md)")
  .option("--runs <n>", "repetitions of every measurement (e.g. 1 for a smoke run)")
  .option("--out <dir>", "where to write the report (default: the current directory)")
  .action(async (opts: { json?: boolean; quick?: boolean; only?: string; runs?: string; out?: string }) => {
    // The bench runner ships in the package under dist/bench (package.json "files").
    const { parseSelection, runBenchmarks } = await import("../../bench/run.js");
    let selection;
    try {
      selection = parseSelection(opts.only, opts.runs);
    } catch (e) {
      program.error((e as Error).message, { exitCode: 2 });
    }
    await runBenchmarks({ json: opts.json ?? false, quick: opts.quick ?? false, ...selection, outDir: opts.out ?? process.cwd() });
  });

addDeployCommands(program);

await program.parseAsync(process.argv);
