// Entry point in the manner of Concrete's `compile`: trace, verify, measure bounds on the inputset, build
// lookup tables. Parameters, keys and the server key are made lazily on first use of the FHE side.
import { type Bounds, type BoundsOptions, bitWidth, checkInRange, inferBounds, tablesOf } from "./bounds.js";
import { describe, graphText } from "./describe.js";
import { GraphError } from "../runtime/errors.js";
import type { Graph } from "../runtime/ir.js";
import { evaluate } from "./interpreter.js";
import { attachTables, fuseLookupChains, lowerBivariateLookups, lowerWideDeltas, lowerWideRelus, lowerWideSteps, mergeDuplicateLookups } from "./passes.js";
import type { Shape } from "../runtime/shape.js";
import { type Tensor, type TensorLike, toTensor } from "../runtime/tensor.js";
import { type InputSpec, type TraceFn, trace } from "./tracer.js";
import { bindInputs } from "./interpreter.js";
import { type CircuitEncoding, decodeRange, planEncoding } from "./encoding.js";
import { cipherEncoding } from "../runtime/encoding.js";
import { type CircuitParameters, type ParameterOptions, chooseCircuitParameters } from "./params.js";
import { type SimulateOptions, simulateGraph } from "./simulate.js";
import { type CircuitKeys, CircuitClient } from "../runtime/client.js";
import { CircuitServer } from "../runtime/server.js";
import type { ServerValue } from "../runtime/evaluator.js";
import { circuitStatistics, type CircuitStatistics, type MeasuredLatency, statisticsText } from "./statistics.js";
import type { PbsWorkerPool, ServerKey } from "../tfhe/index.js";
import type { PartitionedServerKey } from "../runtime/partitioned-server-key.js";
import type { PartitionedWorkerPool } from "../runtime/partitioned-pool.js";

export interface CompileOptions extends BoundsOptions, ParameterOptions {
  /** Input shapes; by default taken from the first inputset sample. */
  readonly shapes?: Readonly<Record<string, Shape>>;
}

export type Sample = readonly (TensorLike | Tensor)[];

export class Circuit {
  #encoding: CircuitEncoding | undefined;
  #parameters: CircuitParameters | undefined;
  #client: CircuitClient | undefined;
  #server: CircuitServer | undefined;
  #serverKey: ServerKey | PartitionedServerKey | undefined;
  #pool: Promise<PbsWorkerPool | PartitionedWorkerPool> | undefined;
  /** The `threads` the pool was created with (undefined: one per core). */
  #poolThreads: number | undefined;
  #measured: MeasuredLatency | undefined;

  constructor(
    /** The traced graph with lookup tables attached. */
    readonly graph: Graph,
    readonly bounds: Bounds,
    readonly options: ParameterOptions = {},
  ) {}

  /** The circuit's message space and lookup plans (throws BoundsError if it needs too many bits). */
  get encoding(): CircuitEncoding {
    return (this.#encoding ??= planEncoding(this.graph, this.bounds));
  }

  /** Parameters for the whole circuit (the core's optimizer; LWE-only sets without lookups). */
  get parameters(): CircuitParameters {
    return (this.#parameters ??= chooseCircuitParameters(this.encoding, this.options, this.graph));
  }

  /** The client half: parameters, input/output encodings, keygen, encrypt, decrypt (serializable). */
  get client(): CircuitClient {
    if (this.#client === undefined) {
      const { params, linearOnly, multi } = this.parameters;
      const b = this.bounds.nodes, bits = this.encoding.nodeBits;
      const layout = multi?.layout;
      // Multi-parameter: each encrypted value under its home partition's key (partitions.ts).
      const home = (id: number) => (layout !== undefined && this.graph.nodes[id]!.encrypted ? { home: layout.nodeHome[id]! } : {});
      this.#client = new CircuitClient({
        params: layout?.params[0] ?? params, linearOnly,
        ...(layout === undefined ? {} : { partitions: { params: layout.params, keyswitches: layout.keyswitches } }),
        inputs: this.graph.inputs.map((id) => {
          const n = this.graph.nodes[id]!;
          return { name: n.kind === "input" ? n.name : `%${id}`, shape: n.shape, encrypted: n.encrypted, min: b[id]!.min, max: b[id]!.max, bits: bits[id]!, ...home(id) };
        }),
        // Outputs decode into their whole bit width (encoding.ts).
        outputs: this.graph.outputs.map((id) => {
          const [min, max] = decodeRange(b[id]!);
          return { shape: this.graph.nodes[id]!.shape, encrypted: this.graph.nodes[id]!.encrypted, min, max, bits: bits[id]!, ...home(id) };
        }),
      });
    }
    return this.#client;
  }

  /** The server half: the graph and lookup plans, evaluated with evaluation keys only (serializable). */
  get server(): CircuitServer {
    const { params, linearOnly, multi } = this.parameters;
    const inputRanges = this.graph.inputs.map((id) => ({ min: this.bounds.nodes[id]!.min, max: this.bounds.nodes[id]!.max }));
    const layout = multi?.layout;
    return (this.#server ??= new CircuitServer({
      params: layout?.params[0] ?? params, nodeBits: this.encoding.nodeBits, linearOnly, graph: this.graph, lookups: this.encoding.lookups,
      extractions: this.encoding.extractions, inputRanges, ...(layout === undefined ? {} : { layout }),
    }));
  }

  /** Fresh keys for this circuit's parameters (kept by `client`, used by encryptRunDecrypt). */
  keygen(): CircuitKeys {
    this.#releaseServerSide();
    return this.client.keygen();
  }

  #keys(): CircuitKeys {
    return this.client.hasKeys ? this.client.keys : this.keygen();
  }

  /**
   * Encrypts (range-checked) with the client's key, in full form: nothing travels in-process, so the seeded
   * form (what the client uploads) would only be expanded again.
   */
  #encrypt(inputs: Sample): ServerValue[] {
    checkInRange(this.graph, this.bounds, inputs);
    const { client } = this, keys = client.keys;
    return bindInputs(this.graph, inputs).map((t, i) => {
      const s = client.spec.inputs[i]!;
      const key = keys.partitionKeys?.[s.home ?? 0] ?? keys.client;
      return s.encrypted ? key.encrypt(t.data, cipherEncoding(s.bits)) : t;
    });
  }

  /** Real FHE in one thread: keygen (cached), encrypt, evaluate with evaluation keys only, decrypt. */
  encryptRunDecrypt(...inputs: Sample): Tensor[] {
    // Keys first, so that the measured latency is one run's (keygen and key loading happen once).
    const keys = this.#keys();
    if (keys.evaluationKeys !== undefined) this.#serverKey ??= this.server.loadKeys(keys.evaluationKeys);
    const t0 = performance.now();
    const values = this.#encrypt(inputs);
    const t1 = performance.now();
    const out = this.server.runValues(values, this.#serverKey);
    const t2 = performance.now();
    const result = this.client.decryptValues(out);
    this.#measured = { encryptMs: t1 - t0, evaluateMs: t2 - t1, decryptMs: performance.now() - t2, threads: 1 };
    return result;
  }

  /**
   * Real FHE with the lookups of each layer batched on a pool of worker threads (Node; created on first
   * use with `threads` workers, default: one per core, and created again when a call asks for another
   * count; closed by `close()`).
   */
  async encryptRunDecryptAsync(inputs: Sample, options: { readonly threads?: number } = {}): Promise<Tensor[]> {
    const ek = this.#keys().evaluationKeys;
    if (ek === undefined) return this.encryptRunDecrypt(...inputs);
    // A different `threads` than the running pool's replaces the pool (the option is per call).
    if (this.#pool !== undefined && options.threads !== undefined && options.threads !== this.#poolThreads) {
      const old = this.#pool;
      this.#pool = undefined;
      await (await old.catch(() => undefined))?.close();
    }
    if (this.#pool === undefined) {
      this.#poolThreads = options.threads;
      this.#pool = this.server.createPool(ek, options.threads === undefined ? {} : { threads: options.threads })
        .catch((e: unknown) => { this.#pool = undefined; throw e; }); // a failed start is retried next time
    }
    const pool = await this.#pool;
    const t0 = performance.now();
    const values = this.#encrypt(inputs);
    const encryptMs = performance.now() - t0;
    const t1 = performance.now();
    const out = await this.server.runValuesAsync(values, pool);
    const t2 = performance.now();
    const result = this.client.decryptValues(out);
    this.#measured = { encryptMs, evaluateMs: t2 - t1, decryptMs: performance.now() - t2, threads: pool.threads };
    return result;
  }

  /** Clear evaluation with each PBS failing at the predicted rate (default options). */
  simulate(...inputs: Sample): Tensor[] {
    return this.simulateWith({}, ...inputs);
  }

  /** `simulate` with a seed and/or a forced per-PBS failure probability. */
  simulateWith(options: SimulateOptions, ...inputs: Sample): Tensor[] {
    checkInRange(this.graph, this.bounds, inputs);
    return simulateGraph(this.graph, this.bounds, this.encoding, this.parameters, bindInputs(this.graph, inputs), options);
  }

  /** PBS count and layers, parameters, key and ciphertext sizes, estimated and last measured latency. */
  get statistics(): CircuitStatistics {
    return circuitStatistics(this.graph, this.encoding, this.parameters, this.#measured);
  }

  #releaseServerSide(): void {
    this.#serverKey?.free();
    this.#serverKey = undefined;
    const pool = this.#pool;
    this.#pool = undefined;
    void pool?.then((p) => p.close(), () => undefined);
  }

  /** Frees the server key's kernel memory and stops the worker pool (keys are regenerated on next use). */
  dispose(): void {
    this.#releaseServerSide();
    this.#client = undefined;
  }

  /** `dispose`, waiting for the worker pool to stop. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.dispose();
    if (pool !== undefined) await (await pool.catch(() => undefined))?.close();
  }

  /**
   * Clear execution with the reference interpreter (no encryption: `encryptRunDecrypt` and
   * `CircuitServer.run` are the FHE runs); throws InputOutOfRangeError when a value leaves the range the
   * circuit was built for.
   */
  runClear(...inputs: Sample): Tensor[] {
    checkInRange(this.graph, this.bounds, inputs);
    return evaluate(this.graph, inputs);
  }

  /** The graph summary (ops, widths, Σw², lookups), then the statistics — or why parameters cannot be chosen. */
  describe(): string {
    let cost: string[];
    try {
      cost = statisticsText(this.statistics);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      cost = [`parameters: none (${e.name}: ${e.message})`];
    }
    return `${describe(this.graph, this.bounds)}\n${cost.join("\n")}`;
  }

  text(): string {
    return graphText(this.graph, this.bounds);
  }
}

function shapesFromSample(spec: InputSpec, sample: Sample | undefined): Record<string, Shape> {
  const names = Object.keys(spec);
  if (!Array.isArray(sample) || sample.length !== names.length) {
    throw new GraphError(`inputset samples must be arrays of ${names.length} value(s) (${names.join(", ")})`);
  }
  return Object.fromEntries(names.map((n, i) => [n, toTensor(sample[i]!, { what: `input "${n}"` }).shape]));
}

/** Traces `fn` with inputs named and ordered as `spec`, and fits bounds and lookup tables to `inputset`. */
export function compile(fn: TraceFn, spec: InputSpec, inputset: readonly Sample[], options: CompileOptions = {}): Circuit {
  const shapes = options.shapes ?? shapesFromSample(spec, inputset[0]);
  let traced = trace(fn, spec, shapes);
  let bounds = inferBounds(traced, inputset, options);
  // Bivariate lookups become one lookup of a packed index, sized by their operands' ranges.
  // Products, bitwise ops and shifts too wide for that are split into chunks (radix.ts).
  const lowered = lowerBivariateLookups(traced, (id) => bounds.nodes[id]!, bounds.maxLutBits);
  if (lowered !== traced) {
    traced = lowered;
    bounds = inferBounds(traced, inputset, options);
  }
  // Comparisons of values too wide for one lookup become a lookup of the truncated difference.
  // (Each lowering renumbers the graph: bounds are measured again before the next one reads node ids.)
  if (bounds.wideSteps.length > 0) {
    traced = lowerWideSteps(traced, bounds.wideSteps, (id) => bounds.nodes[id]!, bounds.maxLutBits);
    bounds = inferBounds(traced, inputset, options);
  }
  // Equality tests of values too wide for one lookup: two wide comparisons.
  if (bounds.wideDeltas.length > 0) {
    traced = lowerWideDeltas(traced, bounds.wideDeltas, (id) => bounds.nodes[id]!, bounds.maxLutBits);
    bounds = inferBounds(traced, inputset, options);
  }
  // relu (max/min) of values too wide for one lookup: a narrow top part, the low bits, three small lookups.
  if (bounds.wideRelus.length > 0) {
    traced = lowerWideRelus(traced, bounds.wideRelus, (id) => bounds.nodes[id]!, bounds.maxLutBits);
    bounds = inferBounds(traced, inputset, options);
  }
  // Chains of lookups become one lookup (composed table) where the inner input fits the lookup limit.
  const chained = fuseLookupChains(traced, (x, readLsbs) => {
    const { min, max } = bounds.nodes[x]!, step = 2 ** readLsbs;
    return bitWidth(Math.floor(min / step), Math.ceil(max / step)).bits <= bounds.maxLutBits;
  });
  if (chained !== traced) {
    traced = chained;
    bounds = inferBounds(traced, inputset, options);
  }
  let graph = attachTables(traced, tablesOf(bounds));
  // Identical lookups are merged (one PBS, one noise source); bounds are then measured on the merged graph.
  const cse = mergeDuplicateLookups(graph);
  if (cse.merged > 0) {
    bounds = inferBounds(cse.graph, inputset, options);
    graph = attachTables(cse.graph, tablesOf(bounds));
  }
  const { pFail, globalPError, multiParameter } = options;
  return new Circuit(graph, bounds, {
    ...(pFail !== undefined ? { pFail } : {}), ...(globalPError !== undefined ? { globalPError } : {}),
    ...(multiParameter !== undefined ? { multiParameter } : {}),
  });
}
