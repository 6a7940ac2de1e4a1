// umbra's benchmarks: PBS latency per named parameter set, key switching, key generation, encryption and
// decryption, key and ciphertext sizes, FFT throughput, multi-core PBS throughput (PbsWorkerPool), and a
// same-run reference: Zama's node-tfhe (TFHE-rs compiled to WebAssembly; keygen, encryption, decryption
// and serialization only — that build has no homomorphic operations).
//
//   node dist/bench/run.js [--json] [--quick]        (npm run bench; umbra bench [--json] [--quick])
//
// Output: one JSON line per result with --json ({"name", "median_ms", …, "n", "unit"}), else readable lines;
// bench/results/latest.json (every result + the machine) and BENCHMARKS.md are rewritten at the end.
// No result is asserted on: numbers depend on the machine and on whatever else runs on it.
import os from "node:os";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  ClientKey, CompactPublicKey, PbsWorkerPool, ServerKey, NAMED_PARAMETER_SETS, PARAM_MESSAGE_4, PARAM_MESSAGE_7,
  PARAM_MESSAGE_8, UNSAFE_TEST_PARAMS_TINY, bootstrapKeyBytes, type EvaluationKeys, type LweBatch, type TfheParameters,
} from "../src/tfhe/index.js";
import { bootstrapKeyShape, generateBootstrapKey } from "../src/tfhe/bootstrap-key.js";
import { generateKeyswitchKey } from "../src/tfhe/keyswitch-key.js";
import { kernels } from "../src/kernels/wasm.js";

// ---------------------------------------------------------------------------------------------------
// Public API

export interface BenchOptions {
  /** JSON lines on stdout (progress goes to stderr). */
  readonly json: boolean;
  /** Fewer repetitions; PARAM_MESSAGE_7 left out. */
  readonly quick: boolean;
  /**
   * @internal Test mode: UNSAFE_TEST_PARAMS_TINY only, 1–2 repetitions, small batches, the cheap part of the
   * node-tfhe reference. Writes files only where `outDir` says.
   */
  readonly tiny?: boolean;
  /** Where bench/results/latest.json and BENCHMARKS.md go (default: the package root). */
  readonly outDir?: string;
  /** Write the two files (default true; in tiny mode only when `outDir` is given). */
  readonly write?: boolean;
  /** Receives each output line (default: stdout). */
  readonly out?: (line: string) => void;
  /** Receives progress lines (default: stderr with --json, else stdout). */
  readonly log?: (line: string) => void;
  /** @internal Run one named set only (the child process that isolates PARAM_MESSAGE_7's memory). */
  readonly onlySet?: string;
}

export type Section = "pbs" | "keygen" | "encrypt" | "sizes" | "fft" | "throughput" | "reference" | "compare";

export interface BenchResult {
  readonly name: string;
  readonly section: Section;
  /** Median wall-clock time of one run (latency items). */
  readonly median_ms?: number;
  readonly min_ms?: number;
  readonly max_ms?: number;
  /** The value in `unit` when it is not a time (bytes, operations per second, ratio). */
  readonly value?: number;
  /** Parameter set the item ran at. */
  readonly params?: string;
  /** Ciphertexts per run (batch items). */
  readonly batch?: number;
  /** Throughput items: process CPU time (all threads) ÷ wall time over the measured runs. */
  readonly cpu_per_wall?: number;
  /** For sizes: "serialize" (real bytes of serialize()), "estimate" (words × 8 + headers) or "memory". */
  readonly source?: "serialize" | "estimate" | "memory";
  readonly skipped?: boolean;
  readonly error?: string;
  readonly note?: string;
  /** Number of measured runs (0 when skipped or failed). */
  readonly n: number;
  readonly unit: string;
}

export interface MachineDescription {
  readonly cpu: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  readonly commit: string | null;
  readonly uncommittedChanges: boolean | null;
  readonly date: string;
  /** os.loadavg() (1, 5, 15 min) when the run started and when it ended: other work on the machine. */
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
}

export interface BenchReport {
  readonly mode: "full" | "quick" | "tiny";
  readonly machine: MachineDescription;
  readonly results: BenchResult[];
}

// ---------------------------------------------------------------------------------------------------
// Timing helpers

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round(x: number, digits = 4): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const scale = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
}

/** Runs fn `warmup` times unmeasured, then `reps` times measured; returns the samples in ms. */
function sample(fn: () => void, reps: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function sampleAsync(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

function latency(name: string, section: Section, samples: readonly number[], extra: Partial<BenchResult> = {}): BenchResult {
  return {
    name, section, median_ms: round(median(samples)), min_ms: round(Math.min(...samples)), max_ms: round(Math.max(...samples)),
    ...extra, n: samples.length, unit: "ms",
  };
}

function size(name: string, bytes: number, source: BenchResult["source"], extra: Partial<BenchResult> = {}): BenchResult {
  return { name, section: extra.section ?? "sizes", value: bytes, source, ...extra, n: 1, unit: "bytes" };
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

// ---------------------------------------------------------------------------------------------------
// Machine

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export function describeMachine(root: string = packageRoot()): MachineDescription {
  const cpus = os.cpus();
  const status = git(root, ["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 3),
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    commit: git(root, ["rev-parse", "HEAD"]),
    uncommittedChanges: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Sizes: real bytes from serialize() when the serialization module is present, else words × 8 + headers.

interface Serializer {
  readonly serialize: (obj: unknown, params: TfheParameters) => Uint8Array;
  /** Exact length of serialize(obj) without serializing (when the module offers it). */
  readonly serializedSize?: (obj: unknown) => number;
}

async function loadSerializer(): Promise<Serializer | undefined> {
  // Non-literal specifier: the module is written separately; resolved at run time, optional.
  const spec = "../src/tfhe/serialization.js";
  try {
    const m = await import(spec) as { serialize?: unknown; serializedSize?: unknown };
    if (typeof m.serialize !== "function") return undefined;
    return {
      serialize: m.serialize as Serializer["serialize"],
      ...(typeof m.serializedSize === "function" ? { serializedSize: m.serializedSize as Serializer["serializedSize"] } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Framing of an estimate (header, shape fields, seed, CRC): the overhead serialize() adds to the words,
 * as measured once at the test parameters. Estimates are used only where no object exists
 * (PARAM_MESSAGE_8) or when the serialization module is missing.
 */
const FRAME = { secretKey: 32, bsk: 76, bskSeeded: 72, ksk: 72, kskSeeded: 68, ciphertext: 32, ciphertextSeeded: 64, evaluationKeys: 120 };
const FRAME_BYTES = 20;
const SEED = 32;

interface SizeItem { readonly key: string; readonly label: string; readonly estimate: number; readonly object?: () => unknown }

function sizeItems(p: TfheParameters, objects?: {
  client: ClientKey; keys: EvaluationKeys; ct: LweBatch; ctSeeded: unknown;
}): SizeItem[] {
  const n = p.lweDimension, k = p.glweDimension, N = p.polynomialSize, l = p.pbsLevel, lks = p.ksLevel;
  const kN = k * N;
  const bskSeeded = n * (k + 1) * l * N * 8, kskSeeded = kN * lks * 8;
  return [
    { key: "secret-key", label: "secret key (client key)", estimate: FRAME.secretKey + Math.ceil(n / 8) + Math.ceil(kN / 8), object: objects && (() => objects.client) },
    { key: "bsk", label: "bootstrapping key", estimate: FRAME.bsk + n * (k + 1) ** 2 * l * N * 8, object: objects && (() => objects.keys.bootstrapKey) },
    { key: "bsk-seeded", label: "bootstrapping key, seeded", estimate: FRAME.bskSeeded + bskSeeded, object: objects && (() => objects.keys.bootstrapKey.compress()) },
    { key: "ksk", label: "key-switching key", estimate: FRAME.ksk + kN * lks * (n + 1) * 8, object: objects && (() => objects.keys.keyswitchKey) },
    { key: "ksk-seeded", label: "key-switching key, seeded", estimate: FRAME.kskSeeded + kskSeeded, object: objects && (() => objects.keys.keyswitchKey.compress()) },
    { key: "evaluation-keys", label: "evaluation keys as uploaded (seeded BSK + seeded KSK)", estimate: FRAME.evaluationKeys + bskSeeded + kskSeeded, object: objects && (() => objects.keys) },
    { key: "ciphertext", label: "ciphertext (1 value)", estimate: FRAME.ciphertext + (kN + 1) * 8, object: objects && (() => objects.ct) },
    { key: "ciphertext-seeded", label: "ciphertext (1 value), seeded", estimate: FRAME.ciphertextSeeded + 8, object: objects && (() => objects.ctSeeded) },
  ];
}

/** Objects above this are sized by estimate: serializing would need a second copy in memory. */
const MAX_SERIALIZE_BYTES = 512 * 2 ** 20;

function measureSizes(p: TfheParameters, items: readonly SizeItem[], ser: Serializer | undefined, note?: string): BenchResult[] {
  const out: BenchResult[] = [];
  for (const it of items) {
    const name = `size/${it.key}/${p.name}`;
    if (ser && it.object) {
      try {
        const obj = it.object();
        if (it.estimate <= MAX_SERIALIZE_BYTES) {
          out.push(size(name, ser.serialize(obj, p).byteLength, "serialize", { params: p.name }));
        } else if (ser.serializedSize) {
          out.push(size(name, ser.serializedSize(obj), "serialize", { params: p.name, note: "serializedSize() (exact length of serialize(), not materialized)" }));
        } else {
          out.push(size(name, it.estimate, "estimate", { params: p.name, note: "too large to serialize a second copy in the benchmark" }));
        }
      } catch (e) {
        out.push(size(name, it.estimate, "estimate", { params: p.name, note: `serialize() failed (${errorText(e)}); estimate` }));
      }
      continue;
    }
    out.push(size(name, it.estimate, "estimate", { params: p.name, ...(note ? { note } : {}) }));
  }
  out.push(size(`size/fourier-bsk/${p.name}`, bootstrapKeyBytes(p), "memory", { params: p.name, note: "Fourier BSK (f64) held by a server key: kernel memory, or host memory when streamed" }));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Plan

interface Plan {
  readonly mode: BenchReport["mode"];
  readonly sets: readonly TfheParameters[];
  /** Sets run in a child process at the end (memory isolation). */
  readonly isolatedSets: readonly TfheParameters[];
  readonly pbsReps: (p: TfheParameters) => number;
  readonly keyReps: (p: TfheParameters) => number;
  readonly cheapReps: number;
  readonly batch: number;
  readonly main: TfheParameters;
  readonly fftN: number;
  readonly fftPairs: number;
  readonly fftReps: number;
  readonly throughputBatch: number;
  readonly throughputReps: number;
  readonly reference: "full" | "light";
}

function makePlan(opts: BenchOptions): Plan {
  if (opts.tiny) {
    return {
      mode: "tiny", sets: [UNSAFE_TEST_PARAMS_TINY], isolatedSets: [], pbsReps: () => 2, keyReps: () => 1, cheapReps: 2,
      batch: 8, main: UNSAFE_TEST_PARAMS_TINY, fftN: 2048, fftPairs: 20, fftReps: 2, throughputBatch: 6, throughputReps: 1,
      reference: "light",
    };
  }
  const named = NAMED_PARAMETER_SETS.map((s) => s.params).filter((p) => p !== PARAM_MESSAGE_7 && p !== PARAM_MESSAGE_8);
  return {
    mode: opts.quick ? "quick" : "full",
    sets: named,
    isolatedSets: opts.quick ? [] : [PARAM_MESSAGE_7],
    pbsReps: (p) => (p === PARAM_MESSAGE_7 ? 5 : 10),
    keyReps: (p) => (opts.quick || p.polynomialSize * p.pbsLevel > 2048 ? 1 : 3),
    cheapReps: opts.quick ? 20 : 50,
    batch: 256,
    main: PARAM_MESSAGE_4,
    fftN: 2048, fftPairs: 1000, fftReps: 10,
    throughputBatch: 64,
    throughputReps: opts.quick ? 2 : 3,
    reference: "full",
  };
}

// ---------------------------------------------------------------------------------------------------
// Benchmarks

interface Ctx {
  readonly plan: Plan;
  readonly ser: Serializer | undefined;
  readonly emit: (r: BenchResult) => void;
  readonly log: (line: string) => void;
  /** Keys of plan.main, kept from its PBS run for the other sections. */
  mainKeys?: { client: ClientKey; keys: EvaluationKeys };
}

/** Largest single block the kernels' allocator (AssemblyScript TLSF) hands out: just under 1 GiB. */
const KERNEL_BLOCK_BYTES = 2 ** 30 - 2 ** 20;

/**
 * A ServerKey with the library's defaults; if its keys cannot be made resident in kernel memory (a key
 * larger than one kernel block), the bootstrapping key is streamed from host memory instead, and said so.
 */
function makeServerKey(keys: EvaluationKeys): { server: ServerKey; ms: number; note?: string } {
  let t = performance.now();
  try {
    const server = new ServerKey(keys);
    return { server, ms: performance.now() - t };
  } catch (e) {
    if (!/kernel abort|memory exhausted/.test(errorText(e))) throw e;
    t = performance.now();
    const server = new ServerKey(keys, { residentKeyBytes: KERNEL_BLOCK_BYTES });
    return {
      server, ms: performance.now() - t,
      note: `the default ServerKey failed (${errorText(e)}: the ${fmtBytes(keys.bootstrapKey.data.length * 8)} Fourier BSK ` +
        `exceeds the kernel allocator's 1 GiB block); measured with residentKeyBytes ${KERNEL_BLOCK_BYTES}: BSK streamed from host memory`,
    };
  }
}

function benchSet(ctx: Ctx, p: TfheParameters): void {
  const { plan, emit, log } = ctx;
  log(`${p.name}: key generation`);
  let client!: ClientKey;
  emit(latency(`keygen/secret-key/${p.name}`, "keygen", sample(() => { client = ClientKey.generate(p); }, Math.max(10, plan.cheapReps / 5 | 0), 0), { params: p.name }));
  const keyReps = plan.keyReps(p);
  let bootstrapKey!: EvaluationKeys["bootstrapKey"];
  emit(latency(`keygen/bsk/${p.name}`, "keygen", sample(() => {
    bootstrapKey = generateBootstrapKey(client.lweKey, client.glweKey, bootstrapKeyShape(p), p.glweNoiseStd);
  }, keyReps, 0), { params: p.name }));
  let keyswitchKey!: EvaluationKeys["keyswitchKey"];
  emit(latency(`keygen/ksk/${p.name}`, "keygen", sample(() => {
    keyswitchKey = generateKeyswitchKey(client.bigKey, client.lweKey, p.ksBaseLog, p.ksLevel, p.lweNoiseStd);
  }, keyReps, 0), { params: p.name }));
  const keys: EvaluationKeys = { params: p, bootstrapKey, keyswitchKey };

  log(`${p.name}: PBS latency`);
  const made = makeServerKey(keys);
  const server = made.server;
  emit(latency(`server-key-load/${p.name}`, "pbs", [made.ms], {
    params: p.name, note: made.note ?? "Fourier conversion of the BSK + KSK copy into kernel memory",
  }));
  try {
    const bits = p.messageBits + p.carryBits;
    const m = (2 ** bits) - 1;
    const f = (x: number) => (x + 1) % (2 ** bits);
    const lut = server.lookupTable(f);
    const ct = client.encrypt([m]);
    const t0 = performance.now();
    const check = client.decrypt(server.bootstrap(ct, lut))[0];
    const first = performance.now() - t0;
    const pbs = sample(() => { server.bootstrap(ct, lut); }, plan.pbsReps(p), 0);
    emit(latency(`pbs/${p.name}`, "pbs", pbs, {
      params: p.name,
      note: [
        check === f(m) ? "" : `WARNING: decrypted ${check}, expected ${f(m)}`,
        `key switch + blind rotation + sample extraction, 1 ciphertext; first run ${round(first)} ms`,
        made.note ? "BSK streamed from host memory (see server-key-load)" : "",
      ].filter((x) => x !== "").join("; "),
    }));
    emit(latency(`keyswitch/${p.name}`, "pbs", sample(() => { server.keyswitch(ct); }, Math.max(10, plan.pbsReps(p))), { params: p.name }));
    const ctSeeded = client.encryptCompressed([m]);
    for (const r of measureSizes(p, sizeItems(p, { client, keys, ct, ctSeeded }), ctx.ser)) emit(r);
  } finally {
    server.free();
  }
  if (p === plan.main) ctx.mainKeys = { client, keys };
}

function benchSkippedSet(ctx: Ctx, p: TfheParameters, note: string): void {
  ctx.emit({ name: `pbs/${p.name}`, section: "pbs", params: p.name, skipped: true, note, n: 0, unit: "ms" });
  for (const r of measureSizes(p, sizeItems(p), undefined, "computed from the shapes (keys not generated)")) ctx.emit(r);
}

function benchEncryption(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const p = plan.main;
  const client = ctx.mainKeys?.client ?? ClientKey.generate(p);
  const bits = p.messageBits + p.carryBits;
  const values = Array.from({ length: plan.batch }, (_, i) => i % 2 ** bits);
  const reps = plan.cheapReps;
  const batchReps = Math.max(2, reps / 5 | 0);
  log(`${p.name}: encryption and decryption`);
  const extra = { params: p.name };
  emit(latency(`encrypt/1/${p.name}`, "encrypt", sample(() => { client.encrypt([3]); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.encrypt(values); }, batchReps), { ...extra, batch: plan.batch }));
  emit(latency(`encrypt-seeded/1/${p.name}`, "encrypt", sample(() => { client.encryptCompressed([3]); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt-seeded/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.encryptCompressed(values); }, batchReps), { ...extra, batch: plan.batch }));
  let pk!: CompactPublicKey;
  emit(latency(`keygen/public-key/${p.name}`, "keygen", sample(() => { pk = CompactPublicKey.generate(client.bigKey, p.glweNoiseStd); }, Math.max(2, reps / 5 | 0)), extra));
  emit(latency(`encrypt-public-key/1/${p.name}`, "encrypt", sample(() => { pk.encrypt([3], client.encoding); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt-public-key/${plan.batch}/${p.name}`, "encrypt", sample(() => { pk.encrypt(values, client.encoding); }, batchReps), { ...extra, batch: plan.batch }));
  const one = client.encrypt([3]), many = client.encrypt(values);
  emit(latency(`decrypt/1/${p.name}`, "encrypt", sample(() => { client.decrypt(one); }, reps), { ...extra, batch: 1 }));
  emit(latency(`decrypt/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.decrypt(many); }, batchReps), { ...extra, batch: plan.batch }));
  const list1 = pk.encrypt([3], client.encoding), listB = pk.encrypt(values, client.encoding);
  emit(latency(`expand-public-key-list/${plan.batch}/${p.name}`, "encrypt", sample(() => { listB.expand(); }, batchReps), { ...extra, batch: plan.batch }));
  // Sizes of the public-key objects (real bytes when serialize() exists).
  const N = p.glweDimension * p.polynomialSize;
  const items: SizeItem[] = [
    { key: "public-key", label: "compact public key", estimate: FRAME_BYTES + SEED + N * 8, object: () => pk },
    { key: "public-key-list-1", label: "public-key ciphertext list, 1 value", estimate: FRAME_BYTES + 12 + N * 8 + 8, object: () => list1 },
    { key: `public-key-list-${plan.batch}`, label: `public-key ciphertext list, ${plan.batch} values`, estimate: FRAME_BYTES + 12 + N * 8 + plan.batch * 8, object: () => listB },
  ];
  for (const it of items) {
    const name = `size/${it.key}/${p.name}`;
    try {
      if (!ctx.ser) throw new Error("no serializer");
      emit(size(name, ctx.ser.serialize(it.object!(), p).byteLength, "serialize", extra));
    } catch (e) {
      emit(size(name, it.estimate, "estimate", { ...extra, ...(ctx.ser ? { note: `serialize() failed (${errorText(e)}); estimate` } : {}) }));
    }
  }
}

function benchFft(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const N = plan.fftN;
  log(`FFT N=${N}`);
  const K = kernels();
  K.k.fftInit(N);
  const src = K.alloc(N * 8), f = K.alloc(N * 8), dst = K.alloc(N * 8);
  try {
    const a = K.u64(src, N);
    for (let i = 0; i < N; i++) a[i] = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 20) - 2 ** 19));
    K.k.fftForwardI64(src, f, N);
    K.k.fftBackwardToI64(f, dst, N);
    const ok = K.u64(dst, N).every((v, i) => v === K.u64(src, N)[i]);
    const samples = sample(() => {
      for (let i = 0; i < plan.fftPairs; i++) {
        K.k.fftForwardI64(src, f, N);
        K.k.fftBackwardToI64(f, dst, N);
      }
    }, plan.fftReps);
    const med = median(samples);
    emit({
      name: `fft/${N}`, section: "fft", median_ms: round(med), min_ms: round(Math.min(...samples)), max_ms: round(Math.max(...samples)),
      value: round(plan.fftPairs / (med / 1000)), batch: plan.fftPairs,
      note: `forward (i64 → Fourier) + backward (Fourier → i64) negacyclic FFT pairs per second; median_ms per ${plan.fftPairs} pairs` +
        (ok ? "" : "; WARNING: round trip of 20-bit values was not exact"),
      n: samples.length, unit: "pairs/s",
    });
  } finally {
    K.free(src); K.free(f); K.free(dst);
  }
}

async function benchThroughput(ctx: Ctx): Promise<void> {
  const { plan, emit, log } = ctx;
  const p = plan.main;
  const { client, keys } = ctx.mainKeys ?? (() => { const c = ClientKey.generate(p); return { client: c, keys: c.evaluationKeys() }; })();
  const B = plan.throughputBatch;
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

  log(`${p.name}: PBS throughput, batch of ${B}, main thread`);
  const server = new ServerKey(keys);
  const lut = server.lookupTable(f);
  let mainTp: number | undefined;
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

// ---------------------------------------------------------------------------------------------------
// The same-run reference: node-tfhe (typed here by the small subset used, so the build needs no types).

interface Freeable { free(): void }
interface SafeSerializable extends Freeable { safe_serialize(limit: bigint): Uint8Array }
interface NodeTfhe {
  TfheConfigBuilder: { default(): { build(): Freeable } };
  TfheClientKey: { generate(config: unknown): SafeSerializable };
  TfheCompressedServerKey: { "new"(clientKey: unknown): SafeSerializable };
  TfheCompactPublicKey: { "new"(clientKey: unknown): SafeSerializable };
  FheUint8: { encrypt_with_client_key(v: number, clientKey: unknown): SafeSerializable & { decrypt(clientKey: unknown): number } };
  CompressedFheUint8: { encrypt_with_client_key(v: number, clientKey: unknown): SafeSerializable };
  CompactCiphertextList: { builder(pk: unknown): Freeable & { push_u8(v: number): void; build_packed(): SafeSerializable } };
  ShortintParametersName: Record<string, number | string>;
  ShortintParameters: new (name: number) => Freeable & {
    lwe_dimension(): number; glwe_dimension(): number; polynomial_size(): number; pbs_base_log(): number; pbs_level(): number;
    ks_base_log(): number; ks_level(): number; message_modulus(): bigint; carry_modulus(): bigint;
  };
  Shortint: {
    new_client_key(params: unknown): Freeable;
    new_compressed_server_key(clientKey: unknown): Freeable;
    encrypt(clientKey: unknown, m: bigint): Freeable;
    encrypt_compressed(clientKey: unknown, m: bigint): Freeable;
    decrypt(clientKey: unknown, ct: unknown): bigint;
    serialize_client_key(ck: unknown): Uint8Array;
    serialize_compressed_server_key(sk: unknown): Uint8Array;
    serialize_ciphertext(ct: unknown): Uint8Array;
    serialize_compressed_ciphertext(ct: unknown): Uint8Array;
  };
}

const SERIALIZE_LIMIT = 1n << 40n;
const HL_NOTE = "high-level API, default config (TFHE-rs 1.7 defaults: 2+2-bit blocks, p_fail 2^-128); FheUint8 = 4 blocks";
/** The TFHE-rs shortint set with the same numbers as umbra's PARAM_MESSAGE_4 (n=834, k=1, N=2048, 23×1, 3×5). */
const SHORTINT_SET = "V0_11_PARAM_MESSAGE_2_CARRY_2_KS_PBS_GAUSSIAN_2M64";

function benchReference(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const full = plan.reference === "full";
  const reps = full ? 20 : 1, keyReps = full ? 10 : 1;
  log("node-tfhe: load");
  let T: NodeTfhe;
  let version = "unknown";
  const t0 = performance.now();
  try {
    const req = createRequire(import.meta.url);
    T = req("node-tfhe") as NodeTfhe;
    try { version = (req("node-tfhe/package.json") as { version: string }).version; } catch { /* version unknown */ }
  } catch (e) {
    emit({ name: "node-tfhe/load", section: "reference", error: errorText(e), note: "node-tfhe could not be loaded: no reference figures", n: 0, unit: "ms" });
    return;
  }
  emit(latency("node-tfhe/load", "reference", [performance.now() - t0], { note: `node-tfhe ${version}: require() incl. synchronous compilation of its 4.4 MB wasm` }));

  const item = (name: string, unit: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      emit({ name, section: "reference", error: errorText(e), n: 0, unit });
    }
  };
  const hl = HL_NOTE;

  // High-level API (what a web client of TFHE-rs uses).
  item("node-tfhe/keygen/client-key", "ms", () => {
    const config = T.TfheConfigBuilder.default().build();
    let ck: SafeSerializable | undefined;
    const s = sample(() => { ck?.free(); ck = T.TfheClientKey.generate(config); }, keyReps, 0);
    emit(latency("node-tfhe/keygen/client-key", "reference", s, { note: hl }));
    const clientKey = ck!;
    emit(size("node-tfhe/size/client-key", clientKey.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
    if (full) {
      item("node-tfhe/keygen/compressed-server-key", "ms", () => {
        let sk!: SafeSerializable;
        log("node-tfhe: compressed server key (slow)");
        const s2 = sample(() => { sk = T.TfheCompressedServerKey.new(clientKey); }, 1, 0);
        emit(latency("node-tfhe/keygen/compressed-server-key", "reference", s2, { note: `${hl}; includes the extra keys of the default config` }));
        emit(size("node-tfhe/size/compressed-server-key", sk.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
        sk.free();
      });
    }
    item("node-tfhe/keygen/compact-public-key", "ms", () => {
      let pk: SafeSerializable | undefined;
      const s3 = sample(() => { pk?.free(); pk = T.TfheCompactPublicKey.new(clientKey); }, keyReps, 0);
      emit(latency("node-tfhe/keygen/compact-public-key", "reference", s3, { note: hl }));
      emit(size("node-tfhe/size/compact-public-key", pk!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      item("node-tfhe/encrypt-public-key/FheUint8", "ms", () => {
        let list: SafeSerializable | undefined;
        const s4 = sample(() => {
          list?.free();
          const b = T.CompactCiphertextList.builder(pk!);
          b.push_u8(200);
          list = b.build_packed();
          b.free();
        }, reps);
        emit(latency("node-tfhe/encrypt-public-key/FheUint8", "reference", s4, { batch: 1, note: `${hl}; compact list of one u8` }));
        emit(size("node-tfhe/size/public-key-list-FheUint8", list!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: `${hl}; compact list of one u8` }));
        list!.free();
      });
      pk!.free();
    });
    item("node-tfhe/encrypt/FheUint8", "ms", () => {
      let ct: (SafeSerializable & { decrypt(k: unknown): number }) | undefined;
      const s5 = sample(() => { ct?.free(); ct = T.FheUint8.encrypt_with_client_key(200, clientKey); }, reps);
      emit(latency("node-tfhe/encrypt/FheUint8", "reference", s5, { batch: 1, note: `${hl}; client key` }));
      emit(size("node-tfhe/size/FheUint8", ct!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      let v = 0;
      const s6 = sample(() => { v = ct!.decrypt(clientKey); }, reps * 2);
      emit(latency("node-tfhe/decrypt/FheUint8", "reference", s6, { batch: 1, note: hl + (v === 200 ? "" : `; WARNING: decrypted ${v}`) }));
      ct!.free();
    });
    item("node-tfhe/encrypt/CompressedFheUint8", "ms", () => {
      let ct: SafeSerializable | undefined;
      const s7 = sample(() => { ct?.free(); ct = T.CompressedFheUint8.encrypt_with_client_key(200, clientKey); }, reps);
      emit(latency("node-tfhe/encrypt/CompressedFheUint8", "reference", s7, { batch: 1, note: `${hl}; client key, seeded` }));
      emit(size("node-tfhe/size/CompressedFheUint8", ct!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      ct!.free();
    });
    clientKey.free();
    config.free();
  });

  // Shortint API at the very parameters of umbra's PARAM_MESSAGE_4: the like-for-like comparison.
  item("node-tfhe/shortint/keygen/client-key", "ms", () => {
    const id = T.ShortintParametersName[SHORTINT_SET];
    if (typeof id !== "number") throw new Error(`node-tfhe has no ${SHORTINT_SET}`);
    const sp = new T.ShortintParameters(id);
    const u = PARAM_MESSAGE_4;
    const same = sp.lwe_dimension() === u.lweDimension && sp.glwe_dimension() === u.glweDimension &&
      sp.polynomial_size() === u.polynomialSize && sp.pbs_base_log() === u.pbsBaseLog && sp.pbs_level() === u.pbsLevel &&
      sp.ks_base_log() === u.ksBaseLog && sp.ks_level() === u.ksLevel && sp.message_modulus() * sp.carry_modulus() === 16n;
    const sn = `shortint ${SHORTINT_SET} (n=${sp.lwe_dimension()}, k=${sp.glwe_dimension()}, N=${sp.polynomial_size()}, ` +
      `PBS 2^${sp.pbs_base_log()}×${sp.pbs_level()}, KS 2^${sp.ks_base_log()}×${sp.ks_level()}: ` +
      `${same ? "the same numbers as" : "DIFFERENT from"} umbra's PARAM_MESSAGE_4)`;
    let ck: Freeable | undefined;
    const s = sample(() => { ck?.free(); ck = T.Shortint.new_client_key(sp); }, keyReps, 0);
    emit(latency("node-tfhe/shortint/keygen/client-key", "reference", s, { note: sn }));
    const clientKey = ck!;
    emit(size("node-tfhe/shortint/size/client-key", T.Shortint.serialize_client_key(clientKey).byteLength, "serialize", { section: "reference", note: sn }));
    if (full) {
      item("node-tfhe/shortint/keygen/compressed-server-key", "ms", () => {
        log("node-tfhe: shortint compressed server key (slow)");
        let sk!: Freeable;
        const s2 = sample(() => { sk = T.Shortint.new_compressed_server_key(clientKey); }, 1, 0);
        emit(latency("node-tfhe/shortint/keygen/compressed-server-key", "reference", s2, { note: `${sn}; seeded BSK + KSK` }));
        emit(size("node-tfhe/shortint/size/compressed-server-key", T.Shortint.serialize_compressed_server_key(sk).byteLength, "serialize", { section: "reference", note: sn }));
        sk.free();
      });
    }
    item("node-tfhe/shortint/encrypt", "ms", () => {
      let ct: Freeable | undefined;
      const s3 = sample(() => { ct?.free(); ct = T.Shortint.encrypt(clientKey, 3n); }, reps);
      emit(latency("node-tfhe/shortint/encrypt", "reference", s3, { batch: 1, note: `${sn}; one block` }));
      emit(size("node-tfhe/shortint/size/ciphertext", T.Shortint.serialize_ciphertext(ct!).byteLength, "serialize", { section: "reference", note: sn }));
      let v = 0n;
      const s4 = sample(() => { v = T.Shortint.decrypt(clientKey, ct!); }, reps * 2);
      emit(latency("node-tfhe/shortint/decrypt", "reference", s4, { batch: 1, note: sn + (v === 3n ? "" : `; WARNING: decrypted ${v}`) }));
      ct!.free();
    });
    item("node-tfhe/shortint/encrypt-compressed", "ms", () => {
      let ct: Freeable | undefined;
      const s5 = sample(() => { ct?.free(); ct = T.Shortint.encrypt_compressed(clientKey, 3n); }, reps);
      emit(latency("node-tfhe/shortint/encrypt-compressed", "reference", s5, { batch: 1, note: `${sn}; one block, seeded` }));
      emit(size("node-tfhe/shortint/size/ciphertext-compressed", T.Shortint.serialize_compressed_ciphertext(ct!).byteLength, "serialize", { section: "reference", note: sn }));
      ct!.free();
    });
    clientKey.free();
    sp.free();
  });
}

/** umbra ÷ node-tfhe for the pairs measured in this run (> 1: umbra slower or larger). */
const COMPARISONS: readonly { name: string; umbra: (main: string) => string | string[]; ref: string; what: string }[] = [
  { name: "keygen/client-key", umbra: (m) => `keygen/secret-key/${m}`, ref: "node-tfhe/shortint/keygen/client-key", what: "client key generation (same parameters)" },
  { name: "keygen/server-key", umbra: (m) => [`keygen/bsk/${m}`, `keygen/ksk/${m}`], ref: "node-tfhe/shortint/keygen/compressed-server-key", what: "server key generation, BSK + KSK (same parameters)" },
  { name: "keygen/server-key-high-level", umbra: (m) => [`keygen/bsk/${m}`, `keygen/ksk/${m}`], ref: "node-tfhe/keygen/compressed-server-key", what: "server key generation vs node-tfhe's high-level compressed server key (default config)" },
  { name: "encrypt/1-block", umbra: (m) => `encrypt/1/${m}`, ref: "node-tfhe/shortint/encrypt", what: "encrypt one 4-bit value (same parameters)" },
  { name: "encrypt/8-bit", umbra: (m) => `encrypt/1/${m}`, ref: "node-tfhe/encrypt/FheUint8", what: "encrypt an 8-bit integer: node-tfhe FheUint8 (4 blocks) vs umbra ONE 4-bit value at PARAM_MESSAGE_4 (umbra's 8-bit set does not fit 32-bit wasm)" },
  { name: "encrypt-seeded/1-block", umbra: (m) => `encrypt-seeded/1/${m}`, ref: "node-tfhe/shortint/encrypt-compressed", what: "seeded (compressed) encryption of one 4-bit value (same parameters)" },
  { name: "encrypt-public-key/8-bit", umbra: (m) => `encrypt-public-key/1/${m}`, ref: "node-tfhe/encrypt-public-key/FheUint8", what: "public-key encryption: node-tfhe compact list of one u8 vs umbra compact list of one 4-bit value" },
  { name: "decrypt/1-block", umbra: (m) => `decrypt/1/${m}`, ref: "node-tfhe/shortint/decrypt", what: "decrypt one 4-bit value (same parameters)" },
  { name: "decrypt/8-bit", umbra: (m) => `decrypt/1/${m}`, ref: "node-tfhe/decrypt/FheUint8", what: "decrypt: node-tfhe FheUint8 vs umbra one 4-bit value" },
  { name: "size/client-key", umbra: (m) => `size/secret-key/${m}`, ref: "node-tfhe/shortint/size/client-key", what: "serialized client key (same parameters)" },
  { name: "size/server-key-seeded", umbra: (m) => `size/evaluation-keys/${m}`, ref: "node-tfhe/shortint/size/compressed-server-key", what: "compressed server key: umbra evaluation keys as uploaded, seeded BSK + KSK (same parameters)" },
  { name: "size/ciphertext", umbra: (m) => `size/ciphertext/${m}`, ref: "node-tfhe/shortint/size/ciphertext", what: "one ciphertext (same parameters)" },
  { name: "size/ciphertext-seeded", umbra: (m) => `size/ciphertext-seeded/${m}`, ref: "node-tfhe/shortint/size/ciphertext-compressed", what: "one seeded ciphertext (same parameters)" },
  { name: "size/public-key", umbra: (m) => `size/public-key/${m}`, ref: "node-tfhe/size/compact-public-key", what: "compact public key" },
];

function valueOf(r: BenchResult | undefined): number | undefined {
  if (!r || r.error || r.skipped) return undefined;
  return r.median_ms ?? r.value;
}

function compareResults(results: readonly BenchResult[], main: string): BenchResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  const out: BenchResult[] = [];
  for (const c of COMPARISONS) {
    const names = ([] as string[]).concat(c.umbra(main));
    const us = names.map((n) => valueOf(byName.get(n)));
    const ref = valueOf(byName.get(c.ref));
    if (ref === undefined || ref === 0 || us.some((v) => v === undefined)) continue;
    const u = us.reduce((a, b) => a! + b!, 0)!;
    const unit = byName.get(c.ref)!.unit;
    const caveat = main === PARAM_MESSAGE_4.name ? "" : ` [test run: umbra at ${main}, not the same parameters]`;
    out.push({
      name: `compare/${c.name}`, section: "compare", value: round(u / ref, 3), params: main,
      note: `${c.what}${caveat}: umbra ${round(u)} ${unit} (${names.join(" + ")}) ÷ node-tfhe ${round(ref)} ${unit} (${c.ref})`,
      n: 1, unit: "x",
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Child process for the big sets

function runIsolated(ctx: Ctx, p: TfheParameters): Promise<void> {
  return new Promise((resolve) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [self, "--json", "--only-set", p.name], { stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let got = 0;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        try {
          ctx.emit(JSON.parse(line) as BenchResult);
          got++;
        } catch {
          ctx.log(`(child) ${line}`);
        }
      }
    });
    let err = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      err = (err + d).slice(-2000);
      for (const l of d.split("\n")) if (l.trim()) ctx.log(l);
    });
    child.on("close", (code) => {
      if (code !== 0) {
        const lines = err.split("\n").map((l) => l.trim()).filter((l) => l !== "");
        const cause = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.at(-1) ?? "no output";
        ctx.emit({
          name: `pbs/${p.name}`, section: "pbs", params: p.name, error: `child process exited with ${code}: ${cause}`,
          ...(got > 0 ? { note: `${got} results before the failure` } : {}), n: 0, unit: "ms",
        });
      }
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Report

function fmtMs(x: number | undefined): string {
  if (x === undefined) return "—";
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 10000 ? 1 : 2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  if (x >= 1) return `${x.toFixed(2)} ms`;
  return `${(x * 1000).toFixed(x >= 0.1 ? 0 : 1)} µs`;
}

function fmtBytes(b: number | undefined): string {
  if (b === undefined) return "—";
  if (b < 1024) return `${b} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = b / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

function fmtNum(x: number | undefined): string {
  if (x === undefined) return "—";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : String(round(x, 3));
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function renderMarkdown(report: BenchReport): string {
  const { machine: m, results } = report;
  const by = new Map(results.map((r) => [r.name, r]));
  const lat = (name: string): string => {
    const r = by.get(name);
    if (!r) return "—";
    if (r.error) return "error";
    if (r.skipped) return "skipped";
    return `${fmtMs(r.median_ms)} (n=${r.n})`;
  };
  const val = (name: string) => valueOf(by.get(name));
  const setsRun = [...new Set(results.filter((r) => r.section === "pbs" && r.params).map((r) => r.params!))];
  const allSets = [...NAMED_PARAMETER_SETS.map((s) => s.params), UNSAFE_TEST_PARAMS_TINY].filter((p) => setsRun.includes(p.name));
  const main = report.mode === "tiny" ? UNSAFE_TEST_PARAMS_TINY.name : PARAM_MESSAGE_4.name;
  const out: string[] = [];
  out.push("# umbra benchmarks", "");
  out.push(`Generated by \`npm run bench\` (\`bench/run.ts\`, mode: ${report.mode}) on ${m.date}, ` +
    `commit \`${m.commit ?? "unknown"}\`${m.uncommittedChanges ? " (with uncommitted changes)" : ""}.`, "");
  out.push(`Machine: ${m.cpu}, ${m.cores} logical cores (availableParallelism ${m.availableParallelism}), ${m.memoryGiB} GiB RAM, ` +
    `${m.platform} ${m.arch}, Node ${m.node}, V8 ${m.v8}.` +
    (m.loadAverage ? ` Load average (1/5/15 min) at the start ${m.loadAverage.start.join(" / ")}, at the end ${m.loadAverage.end.join(" / ")}.` : ""), "");
  out.push("Times are wall-clock medians of n runs (n stated in each cell), one thread unless stated, WebAssembly SIMD " +
    "kernels. The machine is shared: concurrent work by other processes can inflate any figure. " +
    "Raw results: `bench/results/latest.json`; JSON lines: `node dist/bench/run.js --json` or `umbra bench --json`.", "");

  out.push("## Programmable bootstrapping latency", "");
  out.push("One ciphertext at a time through `ServerKey.bootstrap`: key switch (kN → n) + blind rotation + sample " +
    "extraction. \"Blind rotation ≈\" is the difference of the two medians.", "");
  out.push(table(["set", "bits", "n", "k", "N", "PBS β×l", "KS β×l", "KS + PBS", "key switch", "blind rotation ≈", "server key load"],
    [...allSets, ...(report.mode === "tiny" ? [] : [PARAM_MESSAGE_8])].filter((p, i, a) => a.indexOf(p) === i).map((p) => {
      const pbs = by.get(`pbs/${p.name}`);
      const br = val(`pbs/${p.name}`) !== undefined && val(`keyswitch/${p.name}`) !== undefined
        ? fmtMs(val(`pbs/${p.name}`)! - val(`keyswitch/${p.name}`)!) : "—";
      return [p.name, String(p.messageBits + p.carryBits), String(p.lweDimension), String(p.glweDimension), String(p.polynomialSize),
        `2^${p.pbsBaseLog}×${p.pbsLevel}`, `2^${p.ksBaseLog}×${p.ksLevel}`,
        pbs?.skipped ? "skipped (see below)" : lat(`pbs/${p.name}`), lat(`keyswitch/${p.name}`), br,
        by.get(`server-key-load/${p.name}`) ? fmtMs(val(`server-key-load/${p.name}`)) : "—"];
    })), "");
  for (const r of results.filter((r) => r.section === "pbs" && (r.skipped || r.error))) {
    out.push(`- ${r.params ?? r.name}: ${r.skipped ? "skipped" : "failed"} — ${r.error ?? r.note ?? ""}`);
  }
  for (const r of results.filter((r) => r.name.startsWith("server-key-load/") && (r.note ?? "").includes("streamed"))) {
    out.push(`- ${r.params}: ${r.note}.`);
  }
  if (report.mode === "quick") out.push("- PARAM_MESSAGE_7: not run in --quick mode (1.7 GB bootstrapping key).");
  out.push("");

  out.push("## Key generation", "");
  out.push("Secret keys (LWE + GLWE, binary, from the platform CSPRNG); bootstrapping key (n GGSW, seeded masks, " +
    "standard domain); key-switching key. The evaluation keys used for the PBS above come from these runs.", "");
  out.push(table(["set", "secret key", "bootstrapping key", "key-switching key"],
    allSets.filter((p) => by.has(`keygen/bsk/${p.name}`)).map((p) => [p.name, lat(`keygen/secret-key/${p.name}`), lat(`keygen/bsk/${p.name}`), lat(`keygen/ksk/${p.name}`)])), "");
  if (by.has(`keygen/public-key/${main}`)) out.push(`Compact public key at ${main}: ${lat(`keygen/public-key/${main}`)}.`, "");

  out.push(`## Encryption and decryption (${main})`, "");
  const encNames = results.filter((r) => r.section === "encrypt");
  out.push(table(["operation", "values", "median", "per value"], encNames.map((r) => [
    r.name.split("/")[0]!, String(r.batch ?? 1), `${fmtMs(r.median_ms)} (n=${r.n})`,
    r.median_ms !== undefined && (r.batch ?? 1) > 1 ? fmtMs(r.median_ms / r.batch!) : "",
  ])), "");

  out.push("## Sizes", "");
  const anySer = results.some((r) => r.section === "sizes" && r.source === "serialize");
  out.push(anySer
    ? "Bytes of `serialize()` (src/tfhe/serialization.ts) where marked (s) — for objects above 512 MiB its exact " +
      "`serializedSize()` —; (e) marks estimates (words × 8 + framing), used where no key was generated. " +
      "\"Evaluation keys (upload)\" is `serialize(evaluationKeys)`: the seeded BSK + KSK a client sends a server."
    : "Estimated as words × 8 + framing (header, shape fields, seed, CRC): the serialization module was not " +
      "available to this run. (e) marks estimates.", "");
  out.push("\"Fourier BSK\" is the memory a server key holds for it (f64; kernel memory, or host memory when streamed).", "");
  const sz = (name: string): string => {
    const r = by.get(name);
    if (!r || r.value === undefined) return "—";
    return `${fmtBytes(r.value)}${r.source === "serialize" ? " (s)" : r.source === "estimate" ? " (e)" : ""}`;
  };
  const sizeSets = [...NAMED_PARAMETER_SETS.map((s) => s.params), UNSAFE_TEST_PARAMS_TINY].filter((p) => by.has(`size/bsk/${p.name}`));
  out.push(table(["set", "secret key", "BSK", "BSK seeded", "Fourier BSK (memory)", "KSK", "KSK seeded", "evaluation keys (upload)", "ciphertext", "ciphertext seeded"],
    sizeSets.map((p) => [p.name, ...["secret-key", "bsk", "bsk-seeded", "fourier-bsk", "ksk", "ksk-seeded", "evaluation-keys", "ciphertext", "ciphertext-seeded"]
      .map((k) => sz(`size/${k}/${p.name}`))])), "");
  const pkSizes = results.filter((r) => r.section === "sizes" && r.name.startsWith("size/public-key"));
  if (pkSizes.length > 0) {
    out.push(`Public-key objects at ${main}: ` + pkSizes.map((r) => `${r.name.split("/")[1]} ${sz(r.name)}`).join(", ") + ".", "");
  }

  out.push("## FFT", "");
  out.push(table(["N", "forward + backward pairs / s", "median per batch", "n"], results.filter((r) => r.section === "fft").map((r) => [
    r.name.split("/")[1]!, fmtNum(r.value), `${fmtMs(r.median_ms)} per ${r.batch} pairs`, String(r.n),
  ])), "");

  out.push("## Multi-core PBS throughput", "");
  const tps = results.filter((r) => r.section === "throughput");
  const oneW = tps.find((r) => r.name.endsWith("/1-worker"));
  out.push(`A batch through \`PbsWorkerPool\` (contiguous chunks, one per worker), at ${tps[0]?.params ?? main}. ` +
    `This machine offers ${m.availableParallelism} logical cores, shared with other work.`, "");
  out.push(table(["configuration", "batch", "per batch", "PBS / s", "vs 1 worker", "CPU time ÷ wall time"], tps.filter((r) => r.unit === "PBS/s").map((r) => [
    r.name.split("/").slice(2).join("/"), String(r.batch), `${fmtMs(r.median_ms)} (n=${r.n})`, fmtNum(r.value),
    oneW?.value ? `${(r.value! / oneW.value).toFixed(2)}×` : "—", r.cpu_per_wall !== undefined ? String(r.cpu_per_wall) : "—",
  ])), "");
  for (const r of tps.filter((r) => r.unit === "x")) out.push(`- ${r.name.split("/").pop()}: **${r.value}×** — ${r.note}`);
  out.push("- CPU time ÷ wall time near the worker count means the workers did run in parallel; a 2-worker speedup " +
    "well below 2× then comes from the cores themselves (two vCPUs may be SMT siblings of one physical core) or " +
    "from other work on the machine (see the load average above).");
  out.push("");

  out.push("## Same-run reference: node-tfhe", "");
  const load = by.get("node-tfhe/load");
  if (!load || load.error) {
    out.push(`node-tfhe could not be used in this run: ${load?.error ?? "not measured"}.`, "");
  } else {
    out.push(`${load.note}. Zama's TFHE-rs compiled to WebAssembly for Node: key generation, encryption, decryption and ` +
      "serialization (no homomorphic operations in this build). Measured in the same process as umbra's figures. " +
      "Two configurations: its high-level API with the default config (FheUint8 = four 2+2-bit blocks, p_fail 2^-128), " +
      `and its shortint API at \`${SHORTINT_SET}\`, whose numbers equal umbra's PARAM_MESSAGE_4 — the like-for-like row. ` +
      "umbra's 8-bit set (PARAM_MESSAGE_8) cannot run in 32-bit WebAssembly, so an \"8-bit\" row compares node-tfhe's " +
      "FheUint8 against umbra encrypting ONE 4-bit value at PARAM_MESSAGE_4: it is not the same amount of plaintext.", "");
    const cmp = results.filter((r) => r.section === "compare");
    out.push(table(["comparison", "umbra", "node-tfhe", "umbra ÷ node-tfhe"], cmp.map((r) => {
      const c = COMPARISONS.find((x) => `compare/${x.name}` === r.name)!;
      const names = ([] as string[]).concat(c.umbra(main));
      const isSize = by.get(c.ref)?.unit === "bytes";
      const u = names.map((n) => valueOf(by.get(n))).reduce((a, b) => a! + b!, 0)!;
      const refR = by.get(c.ref)!;
      return [c.what, isSize ? fmtBytes(u) : fmtMs(u), isSize ? fmtBytes(refR.value) : `${fmtMs(refR.median_ms)} (n=${refR.n})`, `${r.value}×`];
    })), "");
    out.push("All node-tfhe figures:", "");
    out.push(table(["item", "value", "note"], results.filter((r) => r.section === "reference").map((r) => [
      r.name, r.error ? `error: ${r.error}` : r.unit === "bytes" ? fmtBytes(r.value) : `${fmtMs(r.median_ms)} (n=${r.n})`,
      (r.note ?? "").replace(HL_NOTE, "high-level API, default config").replace(/^shortint \S+ \([^)]*\)/, "shortint, PARAM_MESSAGE_4's numbers"),
    ])), "");
  }
  out.push("Published figures for context only (other machine, native AVX-512, other parameters; DESIGN.md): TFHE-rs " +
    "KS+PBS at 4 bits 7.28 ms, PBS 2 bits 4.55 ms, 6 bits 52.9 ms (p_fail 2^-128). No ratio is drawn against them.", "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Entry

function orderKeys(r: BenchResult): Record<string, unknown> {
  const { name, n, unit, ...rest } = r;
  return { name, ...rest, n, unit };
}

export async function runBenchmarks(opts: BenchOptions): Promise<BenchReport> {
  const json = opts.json;
  const out = opts.out ?? ((line: string) => { process.stdout.write(line + "\n"); });
  const log = opts.log ?? (json ? (line: string) => { process.stderr.write(line + "\n"); } : (line: string) => { process.stdout.write(`· ${line}\n`); });
  const plan = makePlan(opts);
  const loadStart = os.loadavg().map((x) => round(x, 3));
  const results: BenchResult[] = [];
  const emit = (r: BenchResult): void => {
    results.push(r);
    if (json) out(JSON.stringify(orderKeys(r)));
    else {
      const v = r.error ? `error: ${r.error}` : r.skipped ? `skipped: ${r.note}` : r.median_ms !== undefined && r.unit === "ms"
        ? `${fmtMs(r.median_ms)} (median of ${r.n})` : r.unit === "bytes" ? `${fmtBytes(r.value)} (${r.source})`
          : `${fmtNum(r.value)} ${r.unit}${r.median_ms !== undefined ? ` (${fmtMs(r.median_ms)} per run, median of ${r.n})` : ""}`;
      out(`${r.name.padEnd(52)} ${v}`);
    }
  };
  const ctx: Ctx = { plan, ser: await loadSerializer(), emit, log };

  if (opts.onlySet) {
    const p = NAMED_PARAMETER_SETS.map((s) => s.params).find((q) => q.name === opts.onlySet);
    if (!p) throw new RangeError(`unknown parameter set ${opts.onlySet}`);
    benchSet(ctx, p);
    return { mode: plan.mode, machine: describeMachine(), results };
  }

  benchFft(ctx);
  for (const p of plan.sets) benchSet(ctx, p);
  if (plan.mode !== "tiny") {
    benchSkippedSet(ctx, PARAM_MESSAGE_8, "its Fourier BSK (5.4 GiB) and KSK (3.3 GiB) exceed the 4 GiB of 32-bit " +
      "WebAssembly memory; only streaming both keys from host memory (≈ 15 GB of RAM with the standard-domain copies) could run it, beyond this benchmark's budget");
  }
  benchEncryption(ctx);
  await benchThroughput(ctx);
  ctx.mainKeys = undefined;
  benchReference(ctx);
  for (const p of plan.isolatedSets) {
    log(`${p.name}: in a child process (fresh kernel memory; this takes a few minutes)`);
    await runIsolated(ctx, p);
  }
  for (const r of compareResults(results, plan.main.name)) emit(r);

  const machine = { ...describeMachine(), loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x, 3)) } };
  const report: BenchReport = { mode: plan.mode, machine, results };
  const write = opts.write ?? (!opts.tiny || opts.outDir !== undefined);
  if (write) {
    const dir = opts.outDir ?? packageRoot();
    mkdirSync(join(dir, "bench", "results"), { recursive: true });
    writeFileSync(join(dir, "bench", "results", "latest.json"), JSON.stringify({
      mode: report.mode, machine: report.machine, results: report.results.map(orderKeys),
    }, null, 2) + "\n");
    writeFileSync(join(dir, "BENCHMARKS.md"), renderMarkdown(report));
    log(`wrote ${join(dir, "BENCHMARKS.md")} and ${join(dir, "bench", "results", "latest.json")}`);
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
