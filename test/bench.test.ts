// The benchmark code path in its tiny test mode (UNSAFE_TEST_PARAMS_TINY, 1–2 repetitions): JSON lines well
// formed, the report files written where asked (a temp dir, never the repo). No timing is asserted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchmarks, renderMarkdown } from "../bench/run.js";

const UNITS = new Set(["ms", "bytes", "PBS/s", "pairs/s", "x", "GFLOP/s", "flag", "accuracy", "score", "ratio"]);

test("runBenchmarks (tiny mode) prints well-formed JSON lines and writes the report to the given directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-bench-"));
  try {
    const lines: string[] = [];
    const progress: string[] = [];
    const report = await runBenchmarks({
      json: true, quick: true, tiny: true, outDir: dir, out: (l) => lines.push(l), log: (l) => progress.push(l),
    });
    assert.ok(lines.length >= 20, `only ${lines.length} lines`);
    assert.ok(progress.length > 0);
    assert.equal(lines.length, report.results.length);
    const names = new Set<string>();
    for (const line of lines) {
      assert.ok(!line.includes("\n"), "one result per line");
      const r = JSON.parse(line) as Record<string, unknown>;
      const keys = Object.keys(r);
      assert.equal(keys[0], "name", line);
      assert.deepEqual(keys.slice(-2), ["n", "unit"], line);
      assert.equal(typeof r.name, "string");
      assert.ok((r.name as string).length > 0);
      assert.ok(!names.has(r.name as string), `duplicate ${String(r.name)}`);
      names.add(r.name as string);
      assert.ok(Number.isInteger(r.n) && (r.n as number) >= 0, line);
      assert.ok(UNITS.has(r.unit as string), `unit of ${line}`);
      for (const k of ["median_ms", "min_ms", "max_ms", "value", "cpu_per_wall"]) {
        if (k in r) assert.ok(typeof r[k] === "number" && Number.isFinite(r[k]) && (r[k] as number) >= 0, `${k} of ${line}`);
      }
      if (r.unit === "bytes" && r.error === undefined) assert.ok(r.source === "serialize" || r.source === "memory", `source of ${line}`);
      if (r.error === undefined) {
        assert.ok("median_ms" in r || "value" in r, `no figure in ${line}`);
        if (r.unit === "ms") assert.ok((r.n as number) >= 1 && "median_ms" in r, line);
      }
    }
    for (const want of [
      "fft/2048", "pbs/UNSAFE_TEST_PARAMS_TINY", "keyswitch/UNSAFE_TEST_PARAMS_TINY", "keygen/bsk/UNSAFE_TEST_PARAMS_TINY",
      "keygen/ksk/UNSAFE_TEST_PARAMS_TINY", "keygen/secret-key/UNSAFE_TEST_PARAMS_TINY", "encrypt/1/UNSAFE_TEST_PARAMS_TINY",
      "decrypt/1/UNSAFE_TEST_PARAMS_TINY", "size/bsk/UNSAFE_TEST_PARAMS_TINY", "size/ciphertext-seeded/UNSAFE_TEST_PARAMS_TINY",
      "throughput/UNSAFE_TEST_PARAMS_TINY/1-worker", "throughput/UNSAFE_TEST_PARAMS_TINY/2-workers",
      "throughput/UNSAFE_TEST_PARAMS_TINY/ratio-2-vs-1-workers", "node-tfhe/load",
      "compiler/compile/dot8", "compiler/compile/lut4", "compiler/compile/lut6", "compiler/compile/mlp",
      "compiler/keygen/dot8", "compiler/fhe/dot8", "compiler/clear/dot8", "compiler/keygen/lut4", "compiler/fhe/lut4",
      "compiler/fhe/mlp", "compiler/fhe-2-workers/lut4", "compiler/fhe-2-workers/mlp",
      "blind-rotation/UNSAFE_TEST_PARAMS_TINY/batched/x2", "blind-rotation/UNSAFE_TEST_PARAMS_TINY/batch-speedup/x2",
      "ks+pbs/UNSAFE_TEST_PARAMS_TINY_MULTI_BIT_2/vs/UNSAFE_TEST_PARAMS_TINY",
      "demos/filter/blur/8/encrypt", "demos/filter/blur/8/server-1", "demos/filter/blur/8/response-bytes",
      "ml/breast_cancer/logreg/float", "ml/breast_cancer/logreg/quantized", "ml/breast_cancer/logreg/fhe",
      "ml/breast_cancer/logreg/agreement", "ml/breast_cancer/logreg/latency-2-workers",
    ]) assert.ok(names.has(want), `missing ${want}`);
    // The ML section ran on the fixtures: FHE agrees with the quantized model on every sampled row.
    for (const r of report.results.filter((r) => r.section === "ml")) assert.equal(r.error, undefined, `${r.name}: ${r.error}`);
    assert.equal(report.results.find((r) => r.name === "ml/breast_cancer/logreg/agreement")!.value, 1);
    // The compiler's programs compile and run at real parameters: no failure, bits and PBS count recorded.
    for (const r of report.results.filter((r) => r.section === "compiler")) assert.equal(r.error, undefined, `${r.name}: ${r.error}`);
    const lut4 = report.results.find((r) => r.name === "compiler/fhe/lut4")!;
    assert.ok(lut4.pbs_count === 4 && lut4.bits === 4 && lut4.params !== undefined, JSON.stringify(lut4));
    assert.equal(report.results.find((r) => r.name === "compiler/compile/dot8")!.pbs_count, 0);
    // Whatever happened to node-tfhe (loaded or not), it is recorded rather than thrown.
    const load = report.results.find((r) => r.name === "node-tfhe/load")!;
    assert.ok(load.error !== undefined || (load.median_ms !== undefined && names.has("node-tfhe/encrypt/FheUint8")));
    // No result claims a wrong decryption.
    for (const r of report.results) assert.ok(!(r.note ?? "").includes("WARNING"), `${r.name}: ${r.note}`);

    const json = JSON.parse(readFileSync(join(dir, "bench", "results", "latest.json"), "utf8")) as {
      mode: string; machine: Record<string, unknown>; results: unknown[];
    };
    assert.equal(json.mode, "tiny");
    assert.equal(json.results.length, report.results.length);
    for (const k of ["cpu", "cores", "node", "v8", "date"]) assert.ok(k in json.machine, `machine.${k}`);
    assert.equal(json.machine.node, process.version);
    const md = readFileSync(join(dir, "BENCHMARKS.md"), "utf8");
    assert.equal(md, renderMarkdown(report));
    for (const h of ["# umbra benchmarks", "## Programmable bootstrapping latency", "## Key generation", "## Sizes", "## FFT",
      "## Batched blind rotation, multi-bit PBS, relaxed SIMD", "## Multi-core PBS throughput", "## Compiler", "## Machine learning (umbra/ml)", "## Demos", "## Same-run reference: node-tfhe"]) assert.ok(md.includes(h), `missing heading ${h}`);
    assert.ok(md.includes(String(json.machine.cpu)));
    assert.match(md, /\| lut4 \| 4 \| 4 \| optimized-p4-/);
    assert.match(md, /\| breast_cancer \| LogisticRegression \| accuracy \| 0\.\d{3} \| /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tiny mode without outDir writes nothing into the repository; readable output otherwise", async () => {
  const root = fileURLToPath(new URL("../../", import.meta.url)); // dist/test → the package root
  const files = [join(root, "BENCHMARKS.md"), join(root, "bench", "results", "latest.json")];
  const before = files.map((f) => (existsSync(f) ? statSync(f).mtimeMs : -1));
  const lines: string[] = [];
  const report = await runBenchmarks({ json: false, quick: true, tiny: true, out: (l) => lines.push(l), log: () => {} });
  assert.equal(report.mode, "tiny");
  assert.equal(lines.length, report.results.length);
  assert.ok(lines.some((l) => l.startsWith("pbs/UNSAFE_TEST_PARAMS_TINY") && /median of 2/.test(l)));
  assert.deepEqual(files.map((f) => (existsSync(f) ? statSync(f).mtimeMs : -1)), before);
});
