// The server half of a compiled circuit (Concrete's Server): the graph, the message space and the lookup
// plans, evaluated with evaluation keys only. It has no way to take a secret key: keys come in as
// serialized evaluation keys (a client key's bytes are WRONG_KIND) or as EvaluationKeys objects (a
// ClientKey object is refused), arguments as serialized values, results go out the same way.
// Serialized as a bundle ("umbra.circuit.server/1"): JSON with the graph and the lookup plans, one part
// with the parameters (re-checked for 128-bit security when decoded).
import {
  BootstrapKey, type Bootstrapper, ClientKey, type DeserializeOptions, deserializeEvaluationKeys, type EvaluationKeys, KeyswitchKey, LweBatch,
  ParameterMismatchError, PbsWorkerPool, type PbsWorkerPoolOptions, ServerKey, type ServerKeyOptions, type TfheParameters,
} from "../tfhe/index.js";
import { decodeArtifactAny, encodeArtifact, encodeArtifactMulti, invalid, sameParameters } from "./artifact.js";
import { type ExtractionPlan, type LookupPlan, MAX_LINEAR_CIRCUIT_BITS, MAX_LOOKUP_CIRCUIT_BITS } from "./encoding.js";
import { type EvaluationPlan, Evaluator, type ServerValue } from "./evaluator.js";
import type { FusionRule } from "./fusion.js";
import { graphFromJson, graphToJson } from "./graph-codec.js";
import { InputOutOfRangeError } from "./errors.js";
import { PartitionedWorkerPool } from "./partitioned-pool.js";
import { isPartitionedEvaluationKeys, type PartitionedEvaluationKeys } from "./partitioned-keys.js";
import {
  checkPartitionedKeys, deserializePartitionedKeys, isPartitionedBootstrapper, type PartitionedBootstrapper, PartitionedServerKey,
} from "./partitioned-server-key.js";
import { parseLayout, type PartitionLayout } from "./partitions.js";
import { fuseLookups } from "./fusion.js";
import { maxLookupBits } from "./evaluator.js";
import { type Graph, liveNodes, nodeName } from "./ir.js";
import type { Tensor } from "./tensor.js";
import { deserializeValues, serializeValues, type ValueSpec, type WireValue } from "./values.js";

export const SERVER_TYPE = "umbra.circuit.server/2";
/** A multi-parameter circuit's server half (one parameter part per partition, the layout in the JSON). */
export const SERVER_TYPE_MULTI = "umbra.circuit.server/3";

export interface ServerSpec {
  readonly params: TfheParameters;
  /** Message space (bits) of each live encrypted node's region, 0 elsewhere, by node id (compiler/encoding.ts). */
  readonly nodeBits: readonly number[];
  readonly linearOnly: boolean;
  readonly graph: Graph;
  /** Encrypted lookups by node id (those that contribute to an output). */
  readonly lookups: ReadonlyMap<number, LookupPlan>;
  /** Exact rounds of wide values, by bit extraction, by node id. */
  readonly extractions: ReadonlyMap<number, ExtractionPlan>;
  /**
   * The accepted range of each input, in input order. The server checks clear inputs against it (it sees
   * them); every range in the graph, hence every lookup table, was derived from these.
   */
  readonly inputRanges: readonly { readonly min: number; readonly max: number }[];
  /** Several parameter partitions (runtime/partitions.ts); `params` is then partition 0's (the artifacts' and values' header). */
  readonly layout?: PartitionLayout;
  /**
   * How lookups are fused (fusion.ts). Default "bounded", what the compiler plans; an artifact without the
   * field predates the rule and had its parameters chosen for "separate".
   */
  readonly fusion?: FusionRule;
}

export class CircuitServer {
  readonly #evaluator: Evaluator;
  readonly #inputs: ValueSpec[];
  readonly #outputs: ValueSpec[];

  constructor(readonly spec: ServerSpec) {
    const { layout } = spec;
    const plan: EvaluationPlan = {
      nodeBits: spec.nodeBits, lookups: spec.lookups, extractions: spec.extractions, live: liveNodes(spec.graph),
      fusion: spec.fusion ?? "bounded",
      ...(layout === undefined ? {} : { partitions: { nodeHome: layout.nodeHome, pbsPartition: layout.pbsPartition } }),
    };
    this.#evaluator = new Evaluator(spec.graph, plan);
    const specOf = (id: number): ValueSpec => ({
      shape: spec.graph.nodes[id]!.shape, encrypted: spec.graph.nodes[id]!.encrypted, bits: spec.nodeBits[id]!,
      ...(layout !== undefined && spec.graph.nodes[id]!.encrypted ? { params: layout.params[layout.nodeHome[id]!]! } : {}),
    });
    this.#inputs = spec.graph.inputs.map(specOf);
    this.#outputs = spec.graph.outputs.map(specOf);
  }

  get params(): TfheParameters {
    return this.spec.params;
  }

  /**
   * The ServerKey for uploaded evaluation keys (serialized, as `CircuitClient.serializedEvaluationKeys`
   * gives them, or decoded); undefined for lookup-free circuits. Never takes a secret key.
   */
  loadKeys(keys: Uint8Array | EvaluationKeys | PartitionedEvaluationKeys, opts: DeserializeOptions & ServerKeyOptions = {}): ServerKey | PartitionedServerKey | undefined {
    if (this.spec.layout !== undefined) return new PartitionedServerKey(this.#partitionedKeys(keys, opts), opts);
    const ek = this.#evaluationKeys(keys, opts);
    if (this.spec.linearOnly) return undefined;
    return new ServerKey(ek, opts);
  }

  /**
   * A worker pool (Node worker threads) holding these evaluation keys, for `runAsync`; for a
   * multi-parameter circuit, one pool of `threads` workers per partition (partitioned-pool.ts).
   */
  async createPool(
    keys: Uint8Array | EvaluationKeys | PartitionedEvaluationKeys, options: Omit<PbsWorkerPoolOptions, "keyswitches"> & DeserializeOptions = {},
  ): Promise<PbsWorkerPool | PartitionedWorkerPool> {
    if (this.spec.linearOnly) throw new RangeError("this circuit has no lookups: it needs no keys and no pool");
    if (this.spec.layout !== undefined) return PartitionedWorkerPool.create(this.#partitionedKeys(keys, options), options);
    return PbsWorkerPool.create(this.#evaluationKeys(keys, options), options);
  }

  /** A multi-parameter circuit's keys: every partition's and every key switch the layout lists, of the right parameters. */
  #partitionedKeys(keys: Uint8Array | EvaluationKeys | PartitionedEvaluationKeys, opts: DeserializeOptions): PartitionedEvaluationKeys {
    if ((keys as unknown) instanceof ClientKey) throw new TypeError("the server takes evaluation keys only, never a client (secret) key");
    const { params, keyswitches } = this.spec.layout!;
    if (keys instanceof Uint8Array) return deserializePartitionedKeys(keys, params, keyswitches, opts);
    if (!isPartitionedEvaluationKeys(keys)) {
      throw new ParameterMismatchError(`this circuit has ${params.length} parameter partitions: it needs the keys of each (CircuitClient.keygen() makes them), not one set`);
    }
    checkPartitionedKeys(keys, params, keyswitches);
    return keys;
  }

  #evaluationKeys(keys: Uint8Array | EvaluationKeys | PartitionedEvaluationKeys, opts: DeserializeOptions): EvaluationKeys {
    if ((keys as unknown) instanceof ClientKey) throw new TypeError("the server takes evaluation keys only, never a client (secret) key");
    if (isPartitionedEvaluationKeys(keys)) throw new ParameterMismatchError("these are a multi-parameter circuit's keys; this circuit has one parameter set");
    const ek = keys instanceof Uint8Array ? deserializeEvaluationKeys(keys, this.spec.params, opts) : keys;
    if (!(ek?.bootstrapKey instanceof BootstrapKey) || !(ek.keyswitchKey instanceof KeyswitchKey)) {
      throw new TypeError("expected evaluation keys (bootstrapping and key-switching keys)");
    }
    if (!sameParameters(ek.params, this.spec.params)) throw new ParameterMismatchError("these evaluation keys belong to other parameters than the circuit's");
    return ek;
  }

  #checkKeys(keys: Bootstrapper | PartitionedBootstrapper | undefined): void {
    if (keys === undefined) return;
    if (typeof keys !== "object" || keys === null || (keys as unknown) instanceof ClientKey || typeof keys.bootstrapMany !== "function") {
      throw new TypeError("expected a Bootstrapper (a ServerKey or a PbsWorkerPool, or a PartitionedServerKey or PartitionedWorkerPool " +
        "for a multi-parameter circuit); the server never takes a secret key");
    }
    const { layout } = this.spec;
    if (layout !== undefined || isPartitionedBootstrapper(keys)) {
      if (!isPartitionedBootstrapper(keys) || layout === undefined || keys.params.length !== layout.params.length
        || keys.params.some((p, i) => !sameParameters(p, layout.params[i]!))) {
        throw new ParameterMismatchError(layout === undefined ? "a multi-parameter key set for a one-set circuit"
          : `this circuit has ${layout.params.length} parameter partitions: it needs the keys of each (loadKeys or createPool)`);
      }
      return;
    }
    if (!(keys instanceof ServerKey) && !(keys instanceof PbsWorkerPool)
      && (typeof keys !== "object" || keys === null || typeof keys.bootstrapMany !== "function" || typeof keys.params !== "object" || keys.params === null)) {
      throw new TypeError("expected a Bootstrapper: a ServerKey or a PbsWorkerPool (the server never takes a secret key)");
    }
    if (!sameParameters(keys.params, this.spec.params)) throw new ParameterMismatchError("the server key belongs to other parameters than the circuit's");
  }

  /** Decodes a request: shapes, counts and encodings checked against the circuit's inputs, clear values' ranges. */
  #args(args: Uint8Array, opts?: DeserializeOptions): ServerValue[] {
    return this.#checkClear(deserializeValues(args, this.spec.params, this.#inputs, opts).map((v) => v.value));
  }

  /** Clear inputs outside their accepted range would make results wrong: refuse them (InputOutOfRangeError). */
  #checkClear(values: readonly ServerValue[]): ServerValue[] {
    values.forEach((v, i) => {
      if (v instanceof LweBatch) return;
      const { min, max } = this.spec.inputRanges[i]!;
      const node = this.spec.graph.nodes[this.spec.graph.inputs[i]!]!;
      const name = node.kind === "input" ? node.name : nodeName(node);
      (v as Tensor).data.forEach((x, j) => {
        if (!(x >= min && x <= max)) {
          throw new InputOutOfRangeError(`clear input "${name}" element ${j} = ${x} is outside [${min}, ${max}], the range this circuit accepts`, name, x);
        }
      });
    });
    return values as ServerValue[];
  }

  #results(values: readonly ServerValue[]): Uint8Array {
    const wire: WireValue[] = values.map((v, o) => ("dimension" in v ? { shape: this.#outputs[o]!.shape, encrypted: v } : v as Tensor));
    return serializeValues(wire, this.spec.params, this.#outputs.map((o) => o.params));
  }

  /** Evaluates serialized arguments in this thread and returns the serialized results. */
  run(args: Uint8Array, keys: ServerKey | PartitionedServerKey | undefined, opts?: DeserializeOptions): Uint8Array {
    this.#checkKeys(keys);
    return this.#results(this.#evaluator.run(this.#args(args, opts), keys));
  }

  /** `run` on any Bootstrapper: with a PbsWorkerPool, the lookups of each layer run on its threads together. */
  async runAsync(args: Uint8Array, keys: Bootstrapper | PartitionedBootstrapper | undefined, opts?: DeserializeOptions): Promise<Uint8Array> {
    this.#checkKeys(keys);
    return this.#results(await this.#evaluator.runAsync(this.#args(args, opts), keys));
  }

  /** In-process evaluation on decoded values (ciphertext batches and clear tensors). */
  runValues(values: readonly ServerValue[], keys: ServerKey | PartitionedServerKey | undefined): ServerValue[] {
    this.#checkKeys(keys);
    return this.#evaluator.run(this.#checkClear(values), keys);
  }

  /** `runValues` on any Bootstrapper. */
  runValuesAsync(values: readonly ServerValue[], keys: Bootstrapper | PartitionedBootstrapper | undefined): Promise<ServerValue[]> {
    this.#checkKeys(keys);
    return this.#evaluator.runAsync(this.#checkClear(values), keys);
  }

  serialize(): Uint8Array {
    const { params, nodeBits, linearOnly, graph, lookups, extractions, inputRanges, layout, fusion = "bounded" } = this.spec;
    const plans = [...lookups.values()].map((l) => ({ ...l, values: Array.from(l.values) }));
    const json = { nodeBits: [...nodeBits], linearOnly, graph: graphToJson(graph), lookups: plans, extractions: [...extractions.values()], inputRanges, fusion };
    if (layout === undefined) return encodeArtifact(SERVER_TYPE, json, params);
    return encodeArtifactMulti(SERVER_TYPE_MULTI, {
      ...json,
      layout: { nodeHome: [...layout.nodeHome], pbsPartition: [...layout.pbsPartition].sort((a, b) => a[0] - b[0]), keyswitches: layout.keyswitches },
    }, layout.params);
  }

  /** Decodes a server spec: the graph is re-verified, every lookup plan checked against it. */
  static deserialize(bytes: Uint8Array, opts?: DeserializeOptions): CircuitServer {
    const { params: sets, json, multi } = decodeArtifactAny(bytes, SERVER_TYPE, SERVER_TYPE_MULTI, "server spec", opts);
    const o = json as { nodeBits?: unknown; linearOnly?: unknown; graph?: unknown; lookups?: unknown; extractions?: unknown; inputRanges?: unknown; layout?: unknown; fusion?: unknown } | null;
    if (typeof o !== "object" || o === null) invalid("server spec must be an object");
    if (typeof o.linearOnly !== "boolean") invalid("server spec: bad linearOnly");
    const graph = graphFromJson(o.graph);
    const nodeBits = parseNodeBits(o.nodeBits, graph);
    // Tables are checked against the largest N; each PBS's own partition's N is checked with the layout.
    const lookups = parseLookups(o.lookups, graph, nodeBits, Math.max(...sets.map((p) => p.polynomialSize)));
    const extractions = parseExtractions(o.extractions, graph, nodeBits, lookups);
    const live = liveNodes(graph);
    for (const n of graph.nodes) {
      if (n.kind === "round" && n.encrypted && live.has(n.id) && !lookups.has(n.id) && !extractions.has(n.id)) invalid(`${nodeName(n)}: no lookup or extraction plan`);
    }
    if (o.linearOnly !== (lookups.size === 0 && extractions.size === 0)) invalid("server spec: linearOnly disagrees with the lookups");
    const inputRanges = parseInputRanges(o.inputRanges, graph);
    // Artifacts written before the field existed had their parameters chosen without correlated fusion.
    const fusion = o.fusion === undefined ? "separate" : o.fusion;
    if (fusion !== "bounded" && fusion !== "separate") invalid("server spec: fusion must be \"bounded\" or \"separate\"");
    let layout: PartitionLayout | undefined;
    if (multi) {
      if (o.linearOnly) invalid("server spec: a multi-parameter circuit has lookups");
      const ops = [
        ...fuseLookups(graph, lookups, maxLookupBits(lookups), undefined, fusion).map((g) => ({ id: g.members[0]!.node, bits: g.bits, input: g.input, outputs: g.members.map((m) => m.node) })),
        ...[...extractions.values()].filter((e) => e.fromBit < e.lsbs).map((e) => ({ id: e.node, bits: 1, input: e.input, outputs: [e.node] })),
      ];
      layout = parseLayout(o.layout, sets, graph, ops);
    } else if (o.layout !== undefined) {
      invalid("server spec: a one-set artifact carries no layout");
    }
    const params = sets[0]!;
    return new CircuitServer({ params, nodeBits, linearOnly: o.linearOnly, graph, lookups, extractions, inputRanges, fusion, ...(layout === undefined ? {} : { layout }) });
  }
}

function parseInputRanges(json: unknown, graph: Graph): { min: number; max: number }[] {
  if (!Array.isArray(json) || json.length !== graph.inputs.length) invalid("server spec: inputRanges must hold one range per input");
  return (json as unknown[]).map((v, i) => {
    const r = v as { min?: unknown; max?: unknown } | null;
    if (typeof r !== "object" || r === null || !Number.isSafeInteger(r.min) || !Number.isSafeInteger(r.max) || (r.min as number) > (r.max as number)) {
      invalid(`server spec: bad range for input ${i}`);
    }
    return { min: r.min as number, max: r.max as number };
  });
}

/** Region widths: every live encrypted node in [1, 30] bits, equal across each linear link (compiler/encoding.ts). */
function parseNodeBits(json: unknown, graph: Graph): number[] {
  if (!Array.isArray(json) || json.length !== graph.nodes.length) invalid("server spec: nodeBits must hold one entry per node");
  const bits = json as unknown[];
  const live = liveNodes(graph);
  for (const n of graph.nodes) {
    const b = bits[n.id];
    if (!Number.isInteger(b)) invalid(`server spec: nodeBits[${n.id}] is not an integer`);
    const on = n.encrypted && live.has(n.id);
    if (on ? (b as number) < 1 || (b as number) > MAX_LINEAR_CIRCUIT_BITS : b !== 0) invalid(`server spec: bad nodeBits for ${nodeName(n)}`);
    if (!on || n.kind === "lut" || n.kind === "lut2") continue;
    const linked = n.kind === "bound" ? [n.args[0]!] : n.args;
    for (const a of linked) {
      if (graph.nodes[a]!.encrypted && bits[a] !== b) invalid(`server spec: ${nodeName(n)} and its argument %${a} are linked but encoded differently`);
    }
  }
  return bits as number[];
}

/** Bit extractions: live encrypted exact rounds with no lookup plan, fields consistent with the graph. */
function parseExtractions(json: unknown, graph: Graph, nodeBits: readonly number[], lookups: ReadonlyMap<number, LookupPlan>): Map<number, ExtractionPlan> {
  if (json === undefined) return new Map();
  if (!Array.isArray(json)) invalid("server spec: extractions must be an array");
  const live = liveNodes(graph);
  const plans = new Map<number, ExtractionPlan>();
  for (const v of json as unknown[]) {
    const e = v as Partial<Record<keyof ExtractionPlan, unknown>> | null;
    if (typeof e !== "object" || e === null || !Number.isInteger(e.node)) invalid("extraction plan: bad node");
    const n = graph.nodes[e.node as number];
    if (n === undefined || n.kind !== "round" || n.approximate === true || !n.encrypted || !live.has(n.id) || plans.has(n.id) || lookups.has(n.id)) {
      invalid(`extraction plan for %${String(e.node)}: not a live exact encrypted round without a lookup (or listed twice)`);
    }
    const where = `extraction plan for ${nodeName(n)}`;
    const bits = nodeBits[n.id]!;
    if (e.input !== n.args[0] || e.lsbs !== n.lsbs || e.bits !== bits || e.truncate !== (n.truncate === true)) {
      invalid(`${where}: input, lsbs, truncation or bits disagree with the graph`);
    }
    // bits + 1 ≤ 30 (the sign table's output encoding), and 2 ≤ bits (the 2^61 offset is 2^(bits − 2) units).
    if (bits < 2 || bits + 1 > MAX_LINEAR_CIRCUIT_BITS || n.lsbs > bits) invalid(`${where}: a ${bits}-bit region cannot extract ${n.lsbs} bits`);
    if (!Number.isInteger(e.fromBit) || (e.fromBit as number) < 0 || (e.fromBit as number) > n.lsbs) invalid(`${where}: bad fromBit`);
    for (const k of ["freshNorm2", "pbsNorm2"] as const) if (typeof e[k] !== "number" || !((e[k] as number) >= 0)) invalid(`${where}: bad ${k}`);
    plans.set(n.id, {
      node: n.id, input: n.args[0]!, lsbs: n.lsbs, truncate: n.truncate === true, fromBit: e.fromBit as number, bits,
      freshNorm2: e.freshNorm2 as number, pbsNorm2: e.pbsNorm2 as number,
    });
  }
  return plans;
}

function parseLookups(json: unknown, graph: Graph, nodeBits: readonly number[], polynomialSize: number): Map<number, LookupPlan> {
  if (!Array.isArray(json)) invalid("server spec: lookups must be an array");
  const live = liveNodes(graph);
  const plans = new Map<number, LookupPlan>();
  for (const v of json as unknown[]) {
    const l = v as Partial<Record<keyof LookupPlan, unknown>> | null;
    if (typeof l !== "object" || l === null || !Number.isInteger(l.node)) invalid("lookup plan: bad node");
    const n = graph.nodes[l.node as number];
    if (n === undefined || (n.kind !== "lut" && n.kind !== "round") || !n.encrypted || !live.has(n.id) || plans.has(n.id)) {
      invalid(`lookup plan for %${String(l.node)}: not a live encrypted lookup (or listed twice)`);
    }
    const where = `lookup plan for ${nodeName(n)}`;
    // An approximate round's PBS output is its value, as a lut's (kind "lut"); an exact round subtracts it.
    const kind = n.kind === "round" && n.approximate === true ? "lut" : n.kind;
    if (l.kind !== kind || l.input !== n.args[0]) invalid(`${where}: kind or input disagrees with the graph`);
    const inputBits = l.inputBits, step = l.step, inBits = nodeBits[n.args[0]!]!, outBits = nodeBits[n.id]!;
    if (!Number.isInteger(inputBits) || (inputBits as number) < 0 || (inputBits as number) > MAX_LOOKUP_CIRCUIT_BITS ||
      2 ** (inputBits as number) > polynomialSize) invalid(`${where}: bad inputBits`);
    if (!Number.isSafeInteger(step) || (step as number) < 1 || !Number.isInteger(Math.log2(step as number))) invalid(`${where}: bad step`);
    // The scale 2^(inBits − log2 step − inputBits) must be an integer (fusion.ts groupScale).
    if (inBits < (inputBits as number) + Math.log2(step as number)) invalid(`${where}: the input's message space is too small for its index`);
    if (l.inBits !== inBits || l.outBits !== outBits) invalid(`${where}: encodings disagree with nodeBits`);
    const approximate = n.kind === "lut" ? n.readLsbs !== undefined : n.approximate === true;
    if (typeof l.approximate !== "boolean" || l.approximate !== approximate) invalid(`${where}: bad approximate flag`);
    const [lo, hi] = [l.lo, l.hi];
    const p = 2 ** (inputBits as number);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || (hi as number) < (lo as number) ||
      ((hi as number) - (lo as number)) / (step as number) >= p) invalid(`${where}: bad input range`);
    for (const k of ["norm2", "freshNorm2", "pbsNorm2"] as const) if (typeof l[k] !== "number" || !((l[k] as number) >= 0)) invalid(`${where}: bad ${k}`);
    if (!Array.isArray(l.values) || l.values.length !== p || !l.values.every((x) => Number.isSafeInteger(x))) {
      invalid(`${where}: the table must hold ${p} integers`);
    }
    plans.set(n.id, {
      node: n.id, kind, input: n.args[0]!, lo: lo as number, hi: hi as number, step: step as number,
      approximate: l.approximate, inputBits: inputBits as number, inBits, outBits,
      norm2: l.norm2 as number, freshNorm2: l.freshNorm2 as number, pbsNorm2: l.pbsNorm2 as number,
      values: Float64Array.from(l.values as number[]),
    });
  }
  for (const n of graph.nodes) {
    // An exact round of a wide value has an extraction plan instead (checked once both are parsed).
    const extractable = n.kind === "round" && n.approximate !== true;
    if ((n.kind === "lut" || n.kind === "round") && n.encrypted && live.has(n.id) && !plans.has(n.id) && !extractable) invalid(`${nodeName(n)}: no lookup plan`);
  }
  return plans;
}
