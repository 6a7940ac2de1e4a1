// Blind rotation in headless Chromium next to Node, in the same run: the browser half runs in a Web Worker
// (bench/browser-entry.ts, bundled with esbuild), the Node half on this thread, same shape, wall-clock
// medians (a browser has no thread CPU clock). Chromium enables relaxed SIMD by default, so it also times
// the FMA build. Needs UMBRA_CHROMIUM (e.g. /usr/bin/chromium) and the dev dependencies (esbuild,
// playwright-core).
//   UMBRA_CHROMIUM=/usr/bin/chromium node dist/bench/browser.js [--reps N]
import os from "node:os";
import { fileURLToPath } from "node:url";
import { createKernels, relaxedSimdSupported } from "../src/kernels/wasm.js";
import { PARAM_MESSAGE_4 } from "../src/tfhe/index.js";
import { fmtMs, round } from "./format.js";
import { median } from "./harness.js";

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf("--reps") + 1] ?? 7) || 7;
const chromium = process.env.UMBRA_CHROMIUM;
if (!chromium) {
  process.stderr.write("set UMBRA_CHROMIUM to a Chromium binary (e.g. /usr/bin/chromium)\n");
  process.exit(2);
}
const p = PARAM_MESSAGE_4;
const shape = { n: p.lweDimension, k: p.glweDimension, N: p.polynomialSize, b: p.pbsBaseLog, l: p.pbsLevel };
const batch = 8;
process.stdout.write(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);

const esbuild = await import("esbuild");
const entry = fileURLToPath(new URL("./browser-entry.js", import.meta.url));
const bundle = await esbuild.build({ entryPoints: [entry], bundle: true, format: "iife", platform: "browser", write: false, minify: true, logLevel: "silent" });
const code = bundle.outputFiles[0]!.text;

const { chromium: pw } = await import("playwright-core");
const browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
let browserOut: { relaxed: boolean; ua: string; out: Record<string, { single: number[]; batched: number[] }> };
try {
  const page = await browser.newPage();
  browserOut = await page.evaluate(async ({ code, shape, reps, batch }) => {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const w = new Worker(url);
    return await new Promise<never>((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data as never);
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ shape, reps, batch });
    });
  }, { code, shape, reps, batch });
} finally {
  await browser.close();
}

// Node, same work on this thread (baseline build; relaxed too when Node runs with the flag).
const nodeOut: Record<string, { single: number[]; batched: number[] }> = {};
for (const v of relaxedSimdSupported() ? ["simd", "relaxed-simd"] as const : ["simd"] as const) {
  const K = createKernels(v);
  const { n, k, N, b, l } = shape;
  const words = (k + 1) ** 2 * l * N;
  const stage = K.alloc(words * 8), table = K.alloc(n * 4);
  const wv = K.u64(stage, words);
  for (let i = 0; i < words; i++) wv[i] = BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n);
  const ptrs: number[] = [];
  for (let i = 0; i < n; i++) { const g = K.alloc(words * 8); K.k.fftForwardManyI64(stage, g, words / N, N); ptrs.push(g); }
  K.u32(table, n).set(ptrs);
  const accs = K.alloc(batch * (k + 1) * N * 8), lut = K.alloc(N * 8), lwes = K.alloc(batch * (n + 1) * 8);
  const lw = K.u64(lwes, batch * (n + 1));
  for (let i = 0; i < lw.length; i++) lw[i] = BigInt.asUintN(64, BigInt(i + 1) * 0x5851f42d4c957f2dn);
  const scratch = K.alloc(K.k.blindRotateBatchScratchBytes(n, k, N, l, batch));
  const single: number[] = [], batched: number[] = [];
  K.k.blindRotate(accs, lut, lwes, table, n, k, N, b, l, scratch);
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    K.k.blindRotate(accs, lut, lwes, table, n, k, N, b, l, scratch);
    single.push(performance.now() - t);
    t = performance.now();
    K.k.blindRotateBatch(accs, lut, lwes, batch, table, n, k, N, b, l, scratch);
    batched.push((performance.now() - t) / batch);
  }
  nodeOut[v] = { single, batched };
}

process.stdout.write(`Chromium: ${browserOut.ua}; relaxed SIMD ${browserOut.relaxed ? "on" : "off"}. Node ${process.version}: relaxed SIMD ${relaxedSimdSupported() ? "on" : "off"}.\n`);
for (const [where, out] of [["chromium", browserOut.out], ["node", nodeOut]] as const) {
  for (const [v, r] of Object.entries(out)) {
    process.stdout.write(`blind-rotation/${p.name}/${where}/${v}`.padEnd(56) +
      `single ${fmtMs(median(r.single))}, per PBS in a batch of ${batch} ${fmtMs(median(r.batched))} (wall medians of ${r.single.length})\n`);
  }
}
const ratio = median(browserOut.out["simd"]!.single) / median(nodeOut["simd"]!.single);
process.stdout.write(`chromium ÷ node (baseline build, single): ${round(ratio, 3)}×\n`);
process.stdout.write(`load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);
