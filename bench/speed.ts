// Standalone speed run (issue-16 figures without the whole bench): batched vs one-at-a-time blind rotation
// at PARAM_MESSAGE_4 and PARAM_MESSAGE_6, KS + PBS latency, FFT GFLOP/s; interleaved A/B, medians, load.
//   node [--experimental-wasm-relaxed-simd] dist/bench/speed.js [--rounds N] [--sets 4,6] [--only fft,sets,multibit,relaxed]
import os from "node:os";
import {
  ClientKey, NAMED_PARAMETER_SETS, PARAM_MESSAGE_4, PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3, ServerKey,
} from "../src/tfhe/index.js";
import { benchMultiBit } from "./sections/multibit.js";
import { benchRelaxedSimd } from "./sections/relaxed.js";
import { kernels } from "../src/kernels/wasm.js";
import { benchBatchedRotation } from "./sections/batched.js";
import { fftFlops, pbsFlops, simdPeakGflops } from "./flops.js";
import { fmtMs, round } from "./format.js";
import { latency, median, type BenchResult } from "./harness.js";

const args = process.argv.slice(2);
const arg = (f: string): string | undefined => { const i = args.indexOf(f); return i >= 0 ? args[i + 1] : undefined; };
const rounds = Number(arg("--rounds") ?? 5);
const sets = (arg("--sets") ?? "4,6").split(",").map(Number);
const only = (arg("--only") ?? "fft,sets,multibit,relaxed").split(",");
// Thread CPU time of fn in ms (the machine is shared: wall time would count other processes' turns).
const cpuMs = (fn: () => void): number => { const t = process.cpuUsage(); fn(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };
const emit = (r: BenchResult): void => {
  const v = r.unit === "ms" ? `${fmtMs(r.median_ms)} (median of ${r.n}, min ${fmtMs(r.min_ms)})` : `${r.value} ${r.unit}`;
  process.stdout.write(`${r.name.padEnd(52)} ${v}${r.note ? `  — ${r.note}` : ""}\n`);
};
process.stdout.write(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);

if (only.includes("fft")) { // FFT GFLOP/s
  const K = kernels(), N = 2048;
  const src = K.alloc(N * 8), f = K.alloc(N * 8), dst = K.alloc(N * 8);
  const pairs = 1000;
  const s = Array.from({ length: 10 }, () => cpuMs(() => { for (let i = 0; i < pairs; i++) { K.k.fftForwardI64(src, f, N); K.k.fftBackwardToI64(f, dst, N); } }));
  const gf = (2 * pairs * fftFlops(N)) / (median(s) * 1e6);
  const peak = simdPeakGflops();
  emit({ name: `fft/${N}/gflops`, section: "fft", value: round(gf, 3), n: s.length, unit: "GFLOP/s",
    note: `${round(100 * gf / peak.gflops, 3)}% of the nominal f64x2 peak ${round(peak.gflops, 3)} GFLOP/s (${peak.mhz} MHz × 4 pipes × 2 lanes)` });
  K.free(src); K.free(f); K.free(dst);
}

if (only.includes("relaxed")) benchRelaxedSimd(NAMED_PARAMETER_SETS[3]!.params, emit, rounds);
if (only.includes("multibit")) benchMultiBit([PARAM_MESSAGE_4, PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3], emit, rounds);

if (only.includes("sets")) for (const bits of sets) {
  const p = NAMED_PARAMETER_SETS[bits - 1]!.params;
  const client = ClientKey.generate(p);
  const server = new ServerKey(client.evaluationKeys());
  try {
    const lut = server.lookupTable((x) => (x + 1) % 2 ** bits);
    const one = client.encrypt([3]);
    const eight = client.encrypt(Array.from({ length: 8 }, (_, i) => i));
    const s1: number[] = [], s8: number[] = [];
    for (let r = 0; r < rounds; r++) {
      s1.push(cpuMs(() => server.bootstrap(one, lut)));
      s8.push(cpuMs(() => server.bootstrap(eight, lut)) / 8);
    }
    const gf = pbsFlops(p) / (median(s1) * 1e6);
    emit(latency(`ks+pbs/${p.name}/single/cpu`, "pbs", s1, { note: `CPU ms; ${round(pbsFlops(p) / 1e6, 3)} MFLOP (blind rotation) → ${round(gf, 3)} GFLOP/s` }));
    emit(latency(`ks+pbs/${p.name}/per-pbs-in-batch-of-8/cpu`, "pbs", s8, { note: "CPU ms per PBS" }));
    benchBatchedRotation(server, emit, rounds);
  } finally {
    server.free();
    client.wipe();
  }
}
process.stdout.write(`load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);
