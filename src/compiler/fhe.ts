// FHE execution of a circuit: key generation, encryption of the encrypted inputs (one LweBatch per tensor,
// row-major), server-side evaluation with evaluation keys only, and decryption of the outputs.
// Linear ops run on batches with the core's lwe-ops (broadcasting and moves are gathers of ciphertexts);
// each lookup is an offset by −lo then one PBS per element with the lookup's table (encoding.ts).
import {
  add, addPlain, ClientKey, type EvaluationKeys, LweBatch, type LookupTable, matmul, mulScalar, neg, ServerKey,
  sub, sum, trivialEncrypt,
} from "../tfhe/index.js";
import type { Bounds } from "./bounds.js";
import { type CircuitEncoding, liftResidue, lookupPolynomial, residueOf } from "./encoding.js";
import { GraphError } from "./errors.js";
import { evalNode } from "./interpreter.js";
import { type Graph, type Node, nodeName } from "./ir.js";
import type { CircuitParameters } from "./params.js";
import { broadcastMap, sizeOf } from "./shape.js";
import * as k from "./tensor-ops.js";
import type { Tensor } from "./tensor.js";

/** A value at run time on the server: ciphertexts for encrypted nodes, clear tensors otherwise. */
export type ServerValue = LweBatch | Tensor;

export interface CircuitKeys {
  readonly client: ClientKey;
  /** Bootstrapping + key-switching keys; undefined for lookup-free circuits (they need none). */
  readonly evaluationKeys: EvaluationKeys | undefined;
}

export function generateKeys(cp: CircuitParameters): CircuitKeys {
  const client = ClientKey.generate(cp.params);
  return { client, evaluationKeys: cp.linearOnly ? undefined : client.evaluationKeys() };
}

/** Encrypts the encrypted inputs (row-major batches); clear inputs are passed through. */
export function encryptInputs(client: ClientKey, graph: Graph, bits: number, inputs: readonly Tensor[]): ServerValue[] {
  return graph.inputs.map((id, i) => (graph.nodes[id]!.encrypted ? client.encrypt(inputs[i]!.data, { bits }) : inputs[i]!));
}

/** Decrypts outputs: round(phase/Δ) mod 2p, lifted into each node's range. */
export function decryptOutputs(client: ClientKey, graph: Graph, bounds: Bounds, bits: number, outputs: readonly ServerValue[]): Tensor[] {
  return graph.outputs.map((id, o) => {
    const v = outputs[o]!;
    const shape = graph.nodes[id]!.shape;
    if (!(v instanceof LweBatch)) return v;
    const lo = bounds.nodes[id]!.min;
    return { shape, data: Float64Array.from(client.phases(v), (ph) => liftResidue(residueOf(ph, bits), lo, bits)) };
  });
}

const iota = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i);

/** Evaluates the graph on encrypted inputs with evaluation keys only (no secret key). */
export class CircuitServer {
  readonly #tables = new Map<string, LookupTable>();

  constructor(
    readonly graph: Graph,
    readonly encoding: CircuitEncoding,
    readonly server: ServerKey | undefined,
  ) {
    if (encoding.lookups.size > 0 && server === undefined) throw new GraphError("this circuit has lookups: it needs evaluation keys");
  }

  run(inputs: readonly ServerValue[]): ServerValue[] {
    const { graph, encoding } = this;
    const values: (ServerValue | undefined)[] = [];
    for (const n of graph.nodes) {
      if (!encoding.live.has(n.id)) { values.push(undefined); continue; }
      if (n.kind === "input") { values.push(inputs[graph.inputs.indexOf(n.id)]!); continue; }
      const args = n.args.map((a) => values[a]!);
      if (!n.encrypted) {
        values.push(evalNode(n, args as Tensor[], () => { throw new GraphError("unreachable"); }));
        continue;
      }
      values.push(this.#node(n, args));
    }
    return graph.outputs.map((id) => values[id]!);
  }

  #shapeOf(id: number): readonly number[] {
    return this.graph.nodes[id]!.shape;
  }

  /** One test polynomial per distinct table (lookups with equal index → value maps share it). */
  #table(id: number): LookupTable {
    const plan = this.encoding.lookups.get(id)!;
    const key = plan.values.join(",");
    let t = this.#tables.get(key);
    if (t === undefined) {
      t = lookupPolynomial(plan, this.encoding.bits, this.server!.params.polynomialSize);
      this.#tables.set(key, t);
    }
    return t;
  }

  #trivial(t: Tensor, dimension: number): LweBatch {
    return trivialEncrypt(dimension, t.data, { bits: this.encoding.bits });
  }

  #node(n: Node, args: readonly ServerValue[]): LweBatch {
    const [a, b] = args;
    const enc = { bits: this.encoding.bits };
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
      case "reshape": return a as LweBatch;
      case "broadcast": {
        const idx = k.broadcastTo({ shape: this.#shapeOf(n.args[0]!), data: iota(sizeOf(this.#shapeOf(n.args[0]!))) }, n.shape);
        return (a as LweBatch).gather(idx.data);
      }
      case "slice": {
        const idx = k.slice({ shape: this.#shapeOf(n.args[0]!), data: iota(sizeOf(this.#shapeOf(n.args[0]!))) }, n.starts, n.stops, n.steps);
        return (a as LweBatch).gather(idx.data);
      }
      case "concat": {
        const dim = (args.find((v) => v instanceof LweBatch) as LweBatch).dimension;
        const batches = args.map((v) => (v instanceof LweBatch ? v : this.#trivial(v, dim)));
        let offset = 0;
        const idx = n.args.map((id, p) => {
          const t = { shape: this.#shapeOf(id), data: iota(batches[p]!.count).map((i) => i + offset) };
          offset += batches[p]!.count;
          return t;
        });
        return LweBatch.concat(batches).gather(k.concat(idx, n.axis).data);
      }
      case "lut": case "round": {
        const plan = this.encoding.lookups.get(n.id);
        if (plan === undefined) throw new GraphError(`${nodeName(n)}: no lookup plan`);
        const x = a as LweBatch;
        const out = this.server!.bootstrap(addPlain(x, -plan.lo, enc), this.#table(n.id));
        return n.kind === "round" ? sub(x, out) : out;
      }
      case "input": case "constant": throw new GraphError(`${nodeName(n)}: unreachable`);
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
