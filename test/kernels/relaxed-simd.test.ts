// The relaxed-SIMD kernel build (fused multiply-adds) and its selection by feature detection. Node 20
// validates relaxed SIMD only with --experimental-wasm-relaxed-simd, so the comparison runs in a child
// process with that flag; this process checks the detection and the baseline fallback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createKernels, defaultKernelVariant, kernels, KernelUnavailableError, relaxedSimdSupported,
} from "../../src/kernels/wasm.js";
import { KERNELS_RELAXED_WASM_BASE64 } from "../../src/kernels/wasm-binary.generated.js";
import { FFT_NOISE_COEFFICIENT, FFT_NOISE_COEFFICIENT_MEASURED } from "../../src/tfhe/index.js";

test("feature detection: the probe agrees with the relaxed build's validation; the default build follows it", () => {
  const relaxedBytes = Uint8Array.from(atob(KERNELS_RELAXED_WASM_BASE64), (c) => c.charCodeAt(0));
  assert.equal(relaxedSimdSupported(), WebAssembly.validate(relaxedBytes));
  assert.equal(defaultKernelVariant(), relaxedSimdSupported() ? "relaxed-simd" : "simd");
  assert.equal(kernels().variant, defaultKernelVariant());
  if (!relaxedSimdSupported()) assert.throws(() => createKernels("relaxed-simd"), KernelUnavailableError);
  assert.equal(createKernels("simd").variant, "simd");
});

test("with relaxed SIMD enabled: both builds' FFT error within the model's bound, exact round trips, PBS correct", () => {
  const child = fileURLToPath(new URL("../helpers/relaxed-simd-child.js", import.meta.url));
  const r = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", child], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    supported: boolean; defaultVariant: string; pbsCorrect: boolean;
    simd: { roundTripExact: boolean; coefficients: number[] }; "relaxed-simd": { roundTripExact: boolean; coefficients: number[] };
  };
  assert.equal(out.supported, true);
  assert.equal(out.defaultVariant, "relaxed-simd");
  assert.equal(out.pbsCorrect, true);
  for (const v of ["simd", "relaxed-simd"] as const) {
    assert.equal(out[v].roundTripExact, true, `${v}: FFT round trip of 20-bit values`);
    for (const c of out[v].coefficients) {
      // One product per shape: its c spreads by a few % around the shape mean (fft-noise.test.ts).
      assert.ok(c <= FFT_NOISE_COEFFICIENT, `${v}: FFT error coefficient ${c.toFixed(5)} above the model's bound ${FFT_NOISE_COEFFICIENT}`);
      assert.ok(c > FFT_NOISE_COEFFICIENT_MEASURED * 0.5, `${v}: coefficient ${c.toFixed(5)} implausibly small`);
    }
  }
  console.log(`# FFT error coefficient per shape: simd ${out.simd.coefficients.map((c) => c.toFixed(5)).join(", ")}; ` +
    `relaxed-simd ${out["relaxed-simd"].coefficients.map((c) => c.toFixed(5)).join(", ")} (bound ${FFT_NOISE_COEFFICIENT})`);
});
