// Server-side evaluation key: key switching + programmable bootstrapping (docs/architecture.md "KS→PBS order").
// PBS(c, f) = SampleExtract(BlindRotate(ModSwitch(KeySwitch(c)), v_f)): evaluates f on the message of c
// and resets the noise to the PBS output variance (noise.ts). A bootstrap refuses a checked batch whose
// values may reach the padding bit or whose noise level exceeds the parameters' (noise-budget.ts).
import { kernels, WasmBuffer } from "../kernels/wasm.js";
import type { Bootstrapper } from "./bootstrapper.js";
import { checkEncoding, type Encoding } from "./encoding.js";
import { BootstrapKey, bootstrapKeyShape, FourierBootstrapKey, ggswCount, ggswWords } from "./bootstrap-key.js";
import { KEYSWITCH_BATCH, KernelKeyswitchKey, KeyswitchKey } from "./keyswitch-key.js";
import { LweBatch } from "./lwe-batch.js";
import { LookupTable, lookupTable, manyLookupTable } from "./lookup-table.js";
import { groupingFactor, type TfheParameters } from "./parameters.js";
import { ParameterMismatchError } from "./errors.js";
import { bootstrapOutputBounds, checkBootstrapInput } from "./bootstrap-input.js";

/** What a client sends the server: no secret material. */
export interface EvaluationKeys {
  readonly params: TfheParameters;
  readonly bootstrapKey: BootstrapKey;
  readonly keyswitchKey: KeyswitchKey;
}

/** Bootstrapping + key-switching keys up to this size live in kernel memory (32-bit: 4 GiB in all). */
export const DEFAULT_RESIDENT_KEY_BYTES = 3 * 2 ** 30;

/** What a value is, for error messages (never its contents). */
function describeValue(v: unknown): string {
  if (v === null || typeof v !== "object") return v === null ? "null" : typeof v;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object without bootstrapKey and keyswitchKey";
}

/**
 * Checks that `keys` are evaluation keys (TypeError otherwise, naming what was passed): servers get
 * `clientKey.evaluationKeys()` or their deserialized form, never the ClientKey itself.
 */
export function checkEvaluationKeys(keys: unknown, where: string): asserts keys is EvaluationKeys {
  const k = keys as Partial<EvaluationKeys> | null | undefined;
  if (typeof k !== "object" || k === null || !(k.bootstrapKey instanceof BootstrapKey) || !(k.keyswitchKey instanceof KeyswitchKey)
    || typeof k.params !== "object" || k.params === null) {
    const hint = describeValue(keys) === "a ClientKey" ? " (a secret key never goes to a server: pass clientKey.evaluationKeys())" : "";
    throw new TypeError(`${where} expects evaluation keys { params, bootstrapKey: BootstrapKey, keyswitchKey: KeyswitchKey }, got ${describeValue(keys)}${hint}`);
  }
}

export interface ServerKeyOptions {
  /**
   * Key bytes allowed in kernel memory; larger keys are streamed from host memory (slower, but the only
   * way to run sets whose keys exceed 32-bit WebAssembly memory). Default DEFAULT_RESIDENT_KEY_BYTES.
   */
  readonly residentKeyBytes?: number;
}

export class ServerKey implements Bootstrapper {
  readonly params: TfheParameters;
  readonly bsk: FourierBootstrapKey;
  readonly ksk: KernelKeyswitchKey;
  // Per-key scratch, allocated once so memory stays flat across any number of PBS.
  readonly #scratch: WasmBuffer;
  readonly #bigIn: WasmBuffer;
  readonly #small: WasmBuffer;
  readonly #acc: WasmBuffer;
  readonly #lut: WasmBuffer;
  readonly #out: WasmBuffer;

  readonly #stage: WasmBuffer | undefined;
  // Multi-bit with a streamed key: the group's GGSW pointers (into #stage) and each ciphertext's switched masks.
  readonly #groupTable: WasmBuffer | undefined;
  readonly #mods: WasmBuffer | undefined;

  constructor(keys: EvaluationKeys, { residentKeyBytes = DEFAULT_RESIDENT_KEY_BYTES }: ServerKeyOptions = {}) {
    checkEvaluationKeys(keys, "new ServerKey");
    const p = keys.params;
    const { lweDimension: n, glweDimension: k, polynomialSize: N } = p;
    const bs = keys.bootstrapKey.shape, ks = keys.keyswitchKey.shape;
    const d = groupingFactor(p);
    if (bs.lweDimension !== n || bs.glweDimension !== k || bs.polynomialSize !== N || bs.baseLog !== p.pbsBaseLog || bs.levels !== p.pbsLevel
      || (bs.groupingFactor ?? 1) !== d) {
      throw new ParameterMismatchError("bootstrap key does not match the parameters");
    }
    if (ks.inputDimension !== k * N || ks.outputDimension !== n || ks.baseLog !== p.ksBaseLog || ks.levels !== p.ksLevel) {
      throw new ParameterMismatchError("keyswitch key does not match the parameters");
    }
    const K = kernels();
    this.params = p;
    // Residency: both keys if they fit, else the one that fits, else neither (streamed).
    const bskBytes = keys.bootstrapKey.data.length * 8, kskBytes = KernelKeyswitchKey.bytes(keys.keyswitchKey.shape);
    const bothFit = bskBytes + kskBytes <= residentKeyBytes;
    const bskResident = bothFit || bskBytes <= residentKeyBytes;
    const kskResident = bothFit || (!bskResident && kskBytes <= residentKeyBytes);
    this.bsk = FourierBootstrapKey.fromStandard(keys.bootstrapKey, { resident: bskResident });
    this.ksk = KernelKeyswitchKey.fromStandard(keys.keyswitchKey, { resident: kskResident });
    const P = 2 ** d - 1; // GGSWs read per step: 1 (classic CMux) or one multi-bit group
    this.#stage = bskResident ? undefined : new WasmBuffer(P * this.bsk.ggswWords * 8, K);
    this.#groupTable = bskResident || d === 1 ? undefined : new WasmBuffer(P * 4, K);
    this.#mods = bskResident || d === 1 ? undefined : new WasmBuffer(KEYSWITCH_BATCH * ((n / d) * P + 1) * 4, K);
    this.#scratch = new WasmBuffer(d === 1
      ? K.k.blindRotateBatchScratchBytes(n, k, N, p.pbsLevel, KEYSWITCH_BATCH)
      : K.k.multiBitScratchBytes(n, d, k, N, p.pbsLevel, KEYSWITCH_BATCH), K);
    // Inputs are key-switched KEYSWITCH_BATCH at a time (one pass over the KSK), then blind-rotated
    // together (one pass over the BSK: blindRotateBatch).
    this.#bigIn = new WasmBuffer(KEYSWITCH_BATCH * (k * N + 1) * 8, K);
    this.#small = new WasmBuffer(KEYSWITCH_BATCH * (n + 1) * 8, K);
    this.#acc = new WasmBuffer(KEYSWITCH_BATCH * (k + 1) * N * 8, K);
    this.#lut = new WasmBuffer(N * 8, K);
    this.#out = new WasmBuffer((k * N + 1) * 8, K);
  }

  /**
   * Bytes of the keys a ServerKey for `p` holds (resident in kernel memory, or in host memory when
   * streamed): the Fourier bootstrapping key (f64) and the 32-bit key-switching key.
   */
  static memoryBytes(p: TfheParameters): { readonly bootstrapKey: number; readonly keyswitchKey: number } {
    const bs = bootstrapKeyShape(p);
    return {
      bootstrapKey: ggswCount(bs) * ggswWords(bs) * 8,
      keyswitchKey: KernelKeyswitchKey.bytes({
        inputDimension: p.glweDimension * p.polynomialSize, outputDimension: p.lweDimension, baseLog: p.ksBaseLog, levels: p.ksLevel,
      }),
    };
  }

  /** Dimension of ciphertexts between bootstraps (the big key, kN). */
  get bigDimension(): number {
    return this.params.glweDimension * this.params.polynomialSize;
  }

  /** The parameter set's message space. */
  get encoding(): Encoding {
    return { bits: this.params.messageBits + this.params.carryBits };
  }

  /** A lookup table for f on this key's message space (optionally to another output encoding). */
  lookupTable(f: (x: number) => number, outputEncoding?: Encoding): LookupTable {
    if (outputEncoding !== undefined) checkEncoding(outputEncoding, "outputEncoding");
    return lookupTable(f, { inputEncoding: this.encoding, outputEncoding, polynomialSize: this.params.polynomialSize });
  }

  /** Several functions of inputs known to be < 2^inputBits, from one blind rotation each. */
  manyLookupTable(functions: readonly ((x: number) => number)[], inputBits: number, outputEncoding?: Encoding): LookupTable {
    return manyLookupTable(functions, inputBits, {
      inputEncoding: this.encoding, outputEncoding, polynomialSize: this.params.polynomialSize,
    });
  }

  /** Key switch kN → n (exposed for tests and benchmarks). */
  keyswitch(batch: LweBatch): LweBatch {
    return this.ksk.apply(batch);
  }

  /**
   * PBS of every ciphertext with one table; for a many-LUT, the outputs of function t are batch t.
   * Throws CiphertextBoundsError for a checked batch whose values may lie outside [0, lut.maxInput] or
   * whose noise level is above what the parameters allow (noise-budget.ts).
   */
  bootstrapMany(batch: LweBatch, lut: LookupTable, keyswitch: KernelKeyswitchKey = this.ksk): LweBatch[] {
    // `keyswitch`: this key's own KSK (kN → n), or one from another parameter set's big key to this n
    // (multi-parameter circuits: a value under one partition's key read by another's PBS).
    if (keyswitch !== this.ksk) {
      if (!(keyswitch instanceof KernelKeyswitchKey)) throw new TypeError("bootstrapMany: keyswitch must be a KernelKeyswitchKey");
      if (keyswitch.shape.outputDimension !== this.params.lweDimension) {
        throw new ParameterMismatchError(`keyswitch key outputs dimension ${keyswitch.shape.outputDimension}, this key's PBS reads ${this.params.lweDimension}`);
      }
    }
    const inDim = keyswitch.shape.inputDimension;
    checkBootstrapInput(this.params, batch, lut, inDim);
    const { glweDimension: k, polynomialSize: N } = this.params;
    const K = this.#acc.k;
    const big = k * N + 1, bigIn = inDim + 1;
    // The staging buffer holds KEYSWITCH_BATCH inputs of this key's kN; a wider foreign input gets its own.
    const wide = bigIn > big ? new WasmBuffer(KEYSWITCH_BATCH * bigIn * 8, K) : undefined;
    const inPtr = wide?.ptr ?? this.#bigIn.ptr;
    const outs = lut.offsets.map(() => new BigUint64Array(batch.count * big));
    try {
      K.u64(this.#lut.ptr, N).set(lut.polynomial);
      for (let c0 = 0; c0 < batch.count; c0 += KEYSWITCH_BATCH) {
        const m = Math.min(KEYSWITCH_BATCH, batch.count - c0);
        K.u64(inPtr, m * bigIn).set(batch.data.subarray(c0 * bigIn, (c0 + m) * bigIn));
        keyswitch.applyBatchAt(this.#small.ptr, inPtr, m);
        this.#blindRotateBatch(this.#small.ptr, m);
        for (let c = c0; c < c0 + m; c++) {
          const acc = this.#acc.ptr + (c - c0) * (k + 1) * N * 8;
          for (let t = 0; t < lut.offsets.length; t++) {
            K.k.sampleExtract(this.#out.ptr, acc, k, N, lut.offsets[t]!);
            outs[t]!.set(K.u64(this.#out.ptr, big), c * big);
          }
        }
      }
    } finally {
      wide?.free();
    }
    const { bounds, noise } = bootstrapOutputBounds(batch, lut);
    return outs.map((d, t) => new LweBatch(k * N, batch.count, d, lut.outputEncoding, bounds[t], noise));
  }

  /** PBS of every ciphertext: the result encrypts f(m) in the table's output encoding. */
  bootstrap(batch: LweBatch, lut: LookupTable): LweBatch {
    if (!(lut instanceof LookupTable)) throw new TypeError("bootstrap expects a LookupTable");
    if (lut.offsets.length !== 1) throw new RangeError("bootstrap takes a single table; use bootstrapMany for a many-LUT");
    return this.bootstrapMany(batch, lut)[0]!;
  }

  /** Convenience: PBS with a table built from f. */
  apply(batch: LweBatch, f: (x: number) => number, outputEncoding?: Encoding): LweBatch {
    return this.bootstrap(batch, this.lookupTable(f, outputEncoding));
  }

  // ACC_c ← BlindRotate(small LWE c of the `count` at `inputs`, #lut), one pass over the key for all of
  // them; resident key: one kernel call; streamed: each GGSW copied in once per batch.
  #blindRotateBatch(inputs: number, count: number): void {
    const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsBaseLog, pbsLevel } = this.params;
    const K = this.#acc.k;
    if (groupingFactor(this.params) > 1) {
      this.#multiBitBlindRotateBatch(inputs, count);
      return;
    }
    if (this.bsk.table) {
      K.k.blindRotateBatch(this.#acc.ptr, this.#lut.ptr, inputs, count, this.bsk.table.ptr, n, k, N,
        pbsBaseLog, pbsLevel, this.#scratch.ptr);
      return;
    }
    const accBytes = (k + 1) * N * 8;
    const aTs: Int32Array[] = [];
    for (let c = 0; c < count; c++) {
      const aPtr = K.k.blindRotateInit(this.#acc.ptr + c * accBytes, this.#lut.ptr, inputs + c * (n + 1) * 8, n, k, N,
        pbsLevel, this.#scratch.ptr) >>> 0;
      aTs.push(K.i32(aPtr, n).slice());
    }
    const host = this.bsk.host!, words = this.bsk.ggswWords, stage = this.#stage!;
    for (let i = 0; i < n; i++) {
      if (aTs.every((aT) => aT[i] === 0)) continue;
      K.f64(stage.ptr, words).set(host.subarray(i * words, (i + 1) * words));
      for (let c = 0; c < count; c++) {
        K.k.cmuxStep(this.#acc.ptr + c * accBytes, stage.ptr, aTs[c]![i]!, k, N, pbsBaseLog, pbsLevel, this.#scratch.ptr);
      }
    }
  }

  // The multi-bit form of #blindRotateBatch (multibit kernel): one external product per group of d key bits.
  #multiBitBlindRotateBatch(inputs: number, count: number): void {
    const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsBaseLog, pbsLevel } = this.params;
    const d = groupingFactor(this.params), P = 2 ** d - 1;
    const K = this.#acc.k;
    if (this.bsk.table) {
      K.k.multiBitBlindRotateBatch(this.#acc.ptr, this.#lut.ptr, inputs, count, this.bsk.table.ptr, n, d, k, N,
        pbsBaseLog, pbsLevel, this.#scratch.ptr);
      return;
    }
    const accBytes = (k + 1) * N * 8, modsBytes = ((n / d) * P + 1) * 4;
    const mods = this.#mods!.ptr, table = this.#groupTable!, stage = this.#stage!;
    for (let c = 0; c < count; c++) {
      K.k.multiBitModulusSwitch(mods + c * modsBytes, inputs + c * (n + 1) * 8, n, d, N);
      K.k.multiBitAccInit(this.#acc.ptr + c * accBytes, this.#lut.ptr, mods + c * modsBytes, n, d, k, N);
    }
    const host = this.bsk.host!, words = this.bsk.ggswWords;
    for (let p = 0; p < P; p++) table.u32()[p] = stage.ptr + p * words * 8;
    for (let g = 0; g < n / d; g++) {
      K.f64(stage.ptr, P * words).set(host.subarray(g * P * words, (g + 1) * P * words));
      for (let c = 0; c < count; c++) {
        K.k.multiBitStep(this.#acc.ptr + c * accBytes, table.ptr, mods + c * modsBytes + g * P * 4, d, k, N,
          pbsBaseLog, pbsLevel, this.#scratch.ptr);
      }
    }
  }

  free(): void {
    this.#groupTable?.free();
    this.#mods?.free();
    this.bsk.free();
    this.ksk.free();
    this.#stage?.free();
    this.#scratch.free(); this.#bigIn.free(); this.#small.free(); this.#acc.free(); this.#lut.free(); this.#out.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
