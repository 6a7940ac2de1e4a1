// Server-side evaluation of a circuit on ciphertexts, with evaluation keys only (no secret key can reach
// this code: it takes a Bootstrapper — a ServerKey or a PbsWorkerPool). Linear ops run on batches with
// the core's lwe-ops (broadcasting and moves are gathers of ciphertexts); each lookup is an offset by −lo
// then one PBS per element with the lookup's table (compiler/encoding.ts).
// One schedule: the graph is evaluated layer by layer — a layer is every lookup group whose input is
// ready — and the PBS of a layer are asked for together, so that a worker pool runs the small lookups of
// independent nodes in parallel. `run` answers them in this thread (ServerKey, synchronous); `runAsync`
// awaits any Bootstrapper.
import {
  add, addPlain, type Bootstrapper, type LookupTable, LweBatch, matmul, mulScalar, neg, type ServerKey, sub, sum,
  trivialEncrypt,
} from "../tfhe/index.js";
import { cipherEncoding, type ExtractionPlan, type LookupPlan } from "./encoding.js";
import { type FusionRule, fuseLookups, groupPolynomial, groupScale, type LookupGroup } from "./fusion.js";
import { GraphError } from "./errors.js";
import { evalNode } from "./clear-node.js";
import { type Graph, type Node, nodeName } from "./ir.js";
import { broadcastMap, sizeOf } from "./shape.js";
import * as k from "./tensor-ops.js";
import type { Tensor } from "./tensor.js";
import { isPartitionedBootstrapper, type PartitionedBootstrapper, PartitionedServerKey } from "./partitioned-server-key.js";

/** A value at run time on the server: ciphertexts for encrypted nodes, clear tensors otherwise. */
export type ServerValue = LweBatch | Tensor;

/** What evaluation needs of the encoding: each node's message space, the lookup plans, the nodes to evaluate. */
export interface EvaluationPlan {
  /** Message space (bits) of each live encrypted node's region, by node id. */
  readonly nodeBits: readonly number[];
  readonly lookups: ReadonlyMap<number, LookupPlan>;
  /** Exact rounds of wide values, by bit extraction (encoding.ts), by node id. */
  readonly extractions: ReadonlyMap<number, ExtractionPlan>;
  readonly live: ReadonlySet<number>;
  /**
   * A multi-parameter circuit's homes and PBS partitions (runtime/partitions.ts); absent: one partition (0)
   * for everything.
   */
  readonly partitions?: {
    readonly nodeHome: readonly number[];
    readonly pbsPartition: ReadonlyMap<number, number>;
  };
  /** The fusion rule the parameters were chosen for (fusion.ts). */
  readonly fusion: FusionRule;
}

/** An extraction in progress: t with bits [fromBit, next) cleared. */
interface Extracting {
  readonly plan: ExtractionPlan;
  t: LweBatch;
  next: number;
}

/** The largest PBS precision of a set of plans: how far fusion may pack lookups into one rotation. */
export function maxLookupBits(lookups: ReadonlyMap<number, LookupPlan>): number {
  let b = 0;
  for (const l of lookups.values()) b = Math.max(b, l.inputBits);
  return b;
}

/**
 * One PBS the schedule asks for: a group's input offset by −lo (the table index), and the group's table;
 * run by `partition`'s keys on a value under partition `from`'s big key.
 */
interface PbsRequest {
  readonly batch: LweBatch;
  readonly table: LookupTable;
  readonly partition: number;
  readonly from: number;
}

/** What the schedule needs of the keys: each partition's N, and conversions between partitions' big keys. */
interface KeyAccess {
  readonly polynomialSize: (partition: number) => number;
  readonly convert: (batch: LweBatch, from: number, to: number) => LweBatch;
}

const iota = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i);
const isLookup = (n: Node): boolean => n.kind === "lut" || n.kind === "round";

/** Evaluates a graph on encrypted inputs. Lookup tables are built once per distinct group table and N. */
export class Evaluator {
  readonly #tables = new Map<string, LookupTable>();
  /** The fused lookup groups (fusion.ts), by member node id. */
  readonly #groupOf = new Map<number, LookupGroup>();

  constructor(readonly graph: Graph, readonly plan: EvaluationPlan) {
    for (const g of fuseLookups(graph, plan.lookups, maxLookupBits(plan.lookups), undefined, plan.fusion)) for (const m of g.members) this.#groupOf.set(m.node, g);
  }

  /**
   * In this thread: every PBS of the schedule on `server` (needed when the circuit has lookups): a
   * ServerKey for a one-set circuit, a PartitionedServerKey for a multi-parameter one.
   */
  run(inputs: readonly ServerValue[], server: ServerKey | PartitionedServerKey | undefined): ServerValue[] {
    this.#needKeys(server);
    const steps = this.#schedule(inputs, this.#access(server));
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      step = steps.next(step.value.map((r) => (server instanceof PartitionedServerKey
        ? server.bootstrapMany(r.partition, r.from, r.batch, r.table) : server!.bootstrapMany(r.batch, r.table))));
    }
  }

  /**
   * The same schedule on any Bootstrapper (a PartitionedBootstrapper for a multi-parameter circuit): the
   * PBS of a layer are in flight together (a pool spreads them).
   */
  async runAsync(inputs: readonly ServerValue[], keys: Bootstrapper | PartitionedBootstrapper | undefined): Promise<ServerValue[]> {
    this.#needKeys(keys);
    const steps = this.#schedule(inputs, this.#access(keys));
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      step = steps.next(await Promise.all(step.value.map((r) => (isPartitionedBootstrapper(keys)
        ? keys.bootstrapMany(r.partition, r.from, r.batch, r.table) : keys!.bootstrapMany(r.batch, r.table)))));
    }
  }

  #access(keys: Bootstrapper | PartitionedBootstrapper | undefined): KeyAccess {
    if (isPartitionedBootstrapper(keys)) {
      return { polynomialSize: (p) => keys.params[p]!.polynomialSize, convert: (b, from, to) => keys.convert(b, from, to) };
    }
    if (this.plan.partitions !== undefined && keys !== undefined) {
      throw new GraphError("this circuit has several parameter partitions: it needs the keys of every partition (a PartitionedServerKey)");
    }
    const N = keys?.params.polynomialSize ?? 0;
    return {
      polynomialSize: () => N,
      convert: (b, from, to) => {
        if (from !== to) throw new GraphError("internal: a conversion between partitions in a one-partition circuit");
        return b;
      },
    };
  }

  #home(node: number): number {
    return this.plan.partitions?.nodeHome[node] ?? 0;
  }

  #partitionOf(op: number): number {
    return this.plan.partitions?.pbsPartition.get(op) ?? 0;
  }

  /**
   * Yields the PBS of each layer (a group's input offset by −lo, and its table) and takes their outputs;
   * returns the graph's outputs.
   */
  *#schedule(inputs: readonly ServerValue[], keys: KeyAccess): Generator<PbsRequest[], ServerValue[], LweBatch[][]> {
    const values = this.#start(inputs);
    const pending = this.graph.nodes.filter((n) => values[n.id] === undefined && this.plan.live.has(n.id));
    const extracting: Extracting[] = [];
    while (pending.length > 0 || extracting.length > 0) {
      // One pass in topological order computes everything that needs no pending lookup; the lookup groups
      // whose input is ready, and the next bit of every extraction in progress, form the layer.
      const layer = new Set<LookupGroup>();
      let kept = 0;
      for (const n of pending) {
        if (!n.args.every((a) => values[a] !== undefined)) { pending[kept++] = n; continue; }
        const ex = this.plan.extractions.get(n.id);
        if (ex !== undefined) {
          const e = this.#startExtraction(ex, values[n.args[0]!] as LweBatch);
          if (e.next >= ex.lsbs) values[n.id] = e.t; // nothing to extract: round(x) is x
          else extracting.push(e);
        }
        else if (isLookup(n) && n.encrypted) layer.add(this.#group(n));
        else values[n.id] = this.#node(n, values);
      }
      pending.length = kept;
      if (layer.size === 0 && extracting.length === 0) {
        if (pending.length > 0) throw new GraphError(`${nodeName(pending[0]!)}: its arguments are never computed`);
        break;
      }
      const groups = [...layer];
      const xs = groups.map((g) => values[g.input] as LweBatch);
      const outs = yield [
        ...groups.map((g, i) => {
          const partition = this.#partitionOf(g.members[0]!.node);
          return { batch: this.#pbsInput(g, xs[i]!), table: this.#table(g, keys.polynomialSize(partition)), partition, from: this.#home(g.input) };
        }),
        ...extracting.map((e) => this.#bitRequest(e, keys)),
      ];
      groups.forEach((g, i) => this.#groupOutputs(g, xs[i]!, outs[i]!, values, keys));
      // A bit's PBS output joins t in its region: converted to the region's home first.
      extracting.forEach((e, i) => this.#clearBit(e, keys.convert(outs[groups.length + i]![0]!, this.#partitionOf(e.plan.node), this.#home(e.plan.input))));
      // Finished extractions make their value available to the next pass.
      for (let i = extracting.length - 1; i >= 0; i--) {
        const e = extracting[i]!;
        if (e.next >= e.plan.lsbs) { values[e.plan.node] = e.t; extracting.splice(i, 1); }
      }
    }
    return this.graph.outputs.map((id) => values[id]!);
  }

  #needKeys(keys: Bootstrapper | PartitionedBootstrapper | undefined): void {
    const extracts = [...this.plan.extractions.values()].some((e) => e.fromBit < e.lsbs);
    if ((this.plan.lookups.size > 0 || extracts) && keys === undefined) {
      throw new GraphError("this circuit has lookups: it needs evaluation keys");
    }
  }

  /** The value array with the inputs in place. */
  #start(inputs: readonly ServerValue[]): (ServerValue | undefined)[] {
    const { graph } = this;
    if (inputs.length !== graph.inputs.length) throw new GraphError(`expected ${graph.inputs.length} input(s), got ${inputs.length}`);
    const values: (ServerValue | undefined)[] = new Array<ServerValue | undefined>(graph.nodes.length);
    graph.inputs.forEach((id, i) => { values[id] = inputs[i]!; });
    return values;
  }

  #group(n: Node): LookupGroup {
    const g = this.#groupOf.get(n.id);
    if (g === undefined) throw new GraphError(`${nodeName(n)}: no lookup plan`);
    return g;
  }

  /** t = x + 2^(lsbs − 1): round to nearest is the truncation of t (ExtractionPlan). */
  #startExtraction(plan: ExtractionPlan, x: LweBatch): Extracting {
    // Nothing to extract when the low bits are known zero: round(x) is x.
    if (plan.fromBit >= plan.lsbs || plan.truncate) return { plan, t: x, next: plan.fromBit };
    return { plan, t: addPlain(x, 2 ** (plan.lsbs - 1), cipherEncoding(plan.bits)), next: plan.fromBit };
  }

  /**
   * The PBS reading bit i of t: t·2^(bits − i) puts it on the padding bit (the bits below are cleared, the
   * ones above leave the torus), plus 2^61, a quarter turn's half, which centres both outcomes in the sign
   * table's halves: bit 0 reads +c, bit 1 reads −c, c = Δ/2 of the region.
   */
  #bitRequest(e: Extracting, keys: KeyAccess): PbsRequest {
    const { bits } = e.plan;
    const shifted = mulScalar(e.t, 2 ** (bits - e.next));
    const partition = this.#partitionOf(e.plan.node);
    return {
      batch: addPlain(shifted, 2 ** (bits - 2), cipherEncoding(bits)).withEncoding(cipherEncoding(1)),
      table: this.#signTable(bits, keys.polynomialSize(partition)), partition, from: this.#home(e.plan.input),
    };
  }

  /** b = c − out is bit·Δ (0 or 1 in the region's encoding); t −= b·2^i. */
  #clearBit(e: Extracting, out: LweBatch): void {
    const { bits } = e.plan;
    const b = addPlain(neg(out), 1, cipherEncoding(bits + 1)).withEncoding(cipherEncoding(bits));
    e.t = sub(e.t, e.next === 0 ? b : mulScalar(b, 2 ** e.next));
    e.next++;
  }

  /** The sign table of bit extraction: every box c = Δ/2 of a `bits` region (2^(63 − bits − 1)). */
  #signTable(bits: number, polynomialSize: number): LookupTable {
    const key = `sign:${polynomialSize}:${bits}`;
    let t = this.#tables.get(key);
    if (t === undefined) {
      const member: LookupPlan = {
        node: -1, kind: "lut", input: -1, lo: 0, hi: 1, step: 1, approximate: false, inputBits: 1, inBits: 1, outBits: bits + 1,
        norm2: 0, freshNorm2: 0, pbsNorm2: 0, values: Float64Array.of(1, 1),
      };
      t = groupPolynomial({ members: [member], input: -1, lo: 0, step: 1, inputBits: 1, bits: 1, inBits: 1 }, polynomialSize);
      this.#tables.set(key, t);
    }
    return t;
  }

  /** The group's PBS message: the input offset by −lo, scaled to the group's precision (compiler/encoding.ts). */
  #pbsInput(g: LookupGroup, x: LweBatch): LweBatch {
    const shifted = addPlain(x, -g.lo, cipherEncoding(g.inBits));
    const scale = groupScale(g);
    return (scale === 1 ? shifted : mulScalar(shifted, scale)).withEncoding(cipherEncoding(g.bits));
  }

  /** Output t of the PBS is member t: a lut is that output; round(x) is x minus its low-bit correction. */
  #groupOutputs(g: LookupGroup, x: LweBatch, outs: readonly LweBatch[], values: (ServerValue | undefined)[], keys: KeyAccess): void {
    const partition = this.#partitionOf(g.members[0]!.node);
    g.members.forEach((m, t) => {
      // The table labels every output with member 0's encoding; each member's values are in its own.
      // An output whose region lives under another partition's key is converted to it.
      const raw = keys.convert(outs[t]!, partition, this.#home(m.node));
      const out = raw.encoding.bits === m.outBits ? raw : raw.withEncoding(cipherEncoding(m.outBits));
      values[m.node] = m.kind === "round" ? sub(x, out) : out;
    });
  }

  /** One test polynomial per distinct group table (groups with equal index → value maps share it). */
  #table(g: LookupGroup, polynomialSize: number): LookupTable {
    const key = `${polynomialSize}:${g.bits}:${g.inputBits}:${g.members.map((m) => `${m.outBits}:${m.values.join(",")}`).join(";")}`;
    let t = this.#tables.get(key);
    if (t === undefined) {
      t = groupPolynomial(g, polynomialSize);
      this.#tables.set(key, t);
    }
    return t;
  }

  /** Any node but an encrypted lookup: clear nodes by evalNode (clear-node.ts), encrypted ones on ciphertexts. */
  #node(n: Node, values: readonly (ServerValue | undefined)[]): ServerValue {
    const args = n.args.map((a) => values[a]!);
    if (!n.encrypted) return evalNode(n, args as Tensor[], () => { throw new GraphError(`${nodeName(n)}: unbound input`); });
    return this.#linear(n, args);
  }

  #shapeOf(id: number): readonly number[] {
    return this.graph.nodes[id]!.shape;
  }

  #trivial(t: Tensor, dimension: number, bits: number): LweBatch {
    return trivialEncrypt(dimension, t.data, cipherEncoding(bits));
  }

  #linear(n: Node, args: readonly ServerValue[]): LweBatch {
    const [a, b] = args;
    // A linear node lives in its region's message space, as do its encrypted arguments (compiler/encoding.ts).
    const bits = this.plan.nodeBits[n.id]!;
    const enc = cipherEncoding(bits);
    switch (n.kind) {
      case "add": case "sub": case "mul": {
        const ma = broadcastMap(this.#shapeOf(n.args[0]!), n.shape), mb = broadcastMap(this.#shapeOf(n.args[1]!), n.shape);
        if (a instanceof LweBatch && b instanceof LweBatch) {
          return n.kind === "add" ? add(a.gather(ma), b.gather(mb)) : sub(a.gather(ma), b.gather(mb));
        }
        const [c, cm, t, tm, encFirst] = a instanceof LweBatch
          ? [a, ma, b as Tensor, mb, true] : [b as LweBatch, mb, a as Tensor, ma, false];
        const clear = Array.from(tm, (i) => t.data[i]!);
        const g = c.gather(cm);
        if (n.kind === "mul") return mulScalar(g, clear);
        if (n.kind === "add") return addPlain(g, clear, enc);
        return encFirst ? addPlain(g, clear.map((v) => -v), enc) : addPlain(neg(g), clear, enc);
      }
      case "neg": return neg(a as LweBatch);
      case "matmul": return this.#matmul(n, a!, b!);
      case "sum": {
        const x = a as LweBatch;
        if (n.axis === null) return sum(x);
        const shape = this.#shapeOf(n.args[0]!);
        const len = shape[n.axis]!, inner = sizeOf(shape.slice(n.axis + 1));
        const parts: LweBatch[] = [];
        for (let o = 0; o < sizeOf(n.shape); o++) {
          const outer = Math.floor(o / inner), r = o % inner;
          parts.push(sum(x.gather(Array.from({ length: len }, (_, t) => (outer * len + t) * inner + r))));
        }
        return LweBatch.concat(parts);
      }
      case "reshape": case "bound": return a as LweBatch;
      case "broadcast": {
        const idx = k.broadcastTo({ shape: this.#shapeOf(n.args[0]!), data: iota(sizeOf(this.#shapeOf(n.args[0]!))) }, n.shape);
        return (a as LweBatch).gather(idx.data);
      }
      case "slice": {
        const idx = k.slice({ shape: this.#shapeOf(n.args[0]!), data: iota(sizeOf(this.#shapeOf(n.args[0]!))) }, n.starts, n.stops, n.steps);
        return (a as LweBatch).gather(idx.data);
      }
      case "gather": return (a as LweBatch).gather(n.indices);
      case "concat": {
        const dim = (args.find((v) => v instanceof LweBatch) as LweBatch).dimension;
        const batches = args.map((v) => (v instanceof LweBatch ? v : this.#trivial(v, dim, bits)));
        let offset = 0;
        const idx = n.args.map((id, p) => {
          const t = { shape: this.#shapeOf(id), data: iota(batches[p]!.count).map((i) => i + offset) };
          offset += batches[p]!.count;
          return t;
        });
        return LweBatch.concat(batches).gather(k.concat(idx, n.axis).data);
      }
      case "lut2": throw new GraphError(`${nodeName(n)}: an encrypted bivariate lookup must be lowered by compile() first`);
      case "lut": case "round": case "input": case "constant": throw new GraphError(`${nodeName(n)}: not a linear op`);
    }
  }

  /** Clear × encrypted products: one lwe matmul per row of an encrypted left side, or per column of a right one. */
  #matmul(n: Node, a: ServerValue, b: ServerValue): LweBatch {
    const sa = this.#shapeOf(n.args[0]!), sb = this.#shapeOf(n.args[1]!);
    const m = sa.length === 2 ? sa[0]! : 1, kk = sa[sa.length - 1]!, cols = sb.length === 2 ? sb[1]! : 1;
    if (a instanceof LweBatch) {
      const W = (b as Tensor).data;
      const rows: LweBatch[] = [];
      for (let i = 0; i < m; i++) rows.push(matmul(a.gather(Array.from({ length: kk }, (_, l) => i * kk + l)), W, cols));
      return LweBatch.concat(rows);
    }
    const A = (a as Tensor).data, x = b as LweBatch;
    const AT = new Float64Array(kk * m);
    for (let i = 0; i < m; i++) for (let l = 0; l < kk; l++) AT[l * m + i] = A[i * kk + l]!;
    const perColumn: LweBatch[] = [];
    for (let j = 0; j < cols; j++) perColumn.push(matmul(x.gather(Array.from({ length: kk }, (_, l) => l * cols + j)), AT, m));
    // perColumn holds element (i, j) at j·m + i; reorder to row-major i·cols + j.
    const order = Array.from({ length: m * cols }, (_, o) => (o % cols) * m + Math.floor(o / cols));
    return LweBatch.concat(perColumn).gather(order);
  }
}
