// Blind rotation in headless Chromium next to Node, in the same run: the browser half runs in a Web Worker
// (bench/browser-entry.ts, bundled with esbuild), the Node half on this thread, same shape, wall-clock
// medians (a browser has no thread CPU clock). Chromium enables relaxed SIMD by default, so it also times
// the FMA build. Needs UMBRA_CHROMIUM (e.g. /usr/bin/chromium) and the dev dependencies (esbuild,
// playwright-core).
//   UMBRA_CHROMIUM=/usr/bin/chromium node dist/bench/browser.js [--reps N]
import os from "node:os";
import { fileURLToPath } from "node:url";
import { relaxedSimdSupported } from "../src/kernels/wasm.js";
import { PARAM_MESSAGE_4 } from "../src/tfhe/index.js";
import { fmtMs, round } from "./format.js";
import { median } from "./harness.js";
import { rotationTimes, type RotationShape, type RotationTimes } from "./rotation-times.js";

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf("--reps") + 1] ?? 7) || 7;
const chromium = process.env.UMBRA_CHROMIUM;
if (!chromium) {
  process.stderr.write("set UMBRA_CHROMIUM to a Chromium binary (e.g. /usr/bin/chromium)\n");
  process.exit(2);
}
const p = PARAM_MESSAGE_4;
const shape: RotationShape = { n: p.lweDimension, k: p.glweDimension, N: p.polynomialSize, b: p.pbsBaseLog, l: p.pbsLevel };
const batch = 8;
process.stdout.write(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);

const esbuild = await import("esbuild");
const entry = fileURLToPath(new URL("./browser-entry.js", import.meta.url));
const bundle = await esbuild.build({ entryPoints: [entry], bundle: true, format: "iife", platform: "browser", write: false, minify: true, logLevel: "silent" });
const code = bundle.outputFiles[0]!.text;

const { chromium: pw } = await import("playwright-core");
const browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
let browserOut: { relaxed: boolean; ua: string; out: Record<string, RotationTimes> };
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
const nodeOut: Record<string, RotationTimes> = {};
for (const v of relaxedSimdSupported() ? ["simd", "relaxed-simd"] as const : ["simd"] as const) nodeOut[v] = rotationTimes(v, shape, reps, batch);

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
