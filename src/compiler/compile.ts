// Entry point in the manner of Concrete's `compile`: trace, verify, measure bounds on the inputset, build
// lookup tables. This stage runs circuits in the clear only; parameter choice and FHE execution build on it.
import { type Bounds, type BoundsOptions, checkInRange, inferBounds, tablesOf } from "./bounds.js";
import { describe, graphText } from "./describe.js";
import { GraphError } from "./errors.js";
import type { Graph } from "./ir.js";
import { evaluate } from "./interpreter.js";
import { attachTables } from "./passes.js";
import type { Shape } from "./shape.js";
import { type Tensor, type TensorLike, toTensor } from "./tensor.js";
import { type InputSpec, type TraceFn, trace } from "./tracer.js";

export interface CompileOptions extends BoundsOptions {
  /** Input shapes; by default taken from the first inputset sample. */
  readonly shapes?: Readonly<Record<string, Shape>>;
}

export type Sample = readonly (TensorLike | Tensor)[];

export class Circuit {
  constructor(
    /** The traced graph with lookup tables attached. */
    readonly graph: Graph,
    readonly bounds: Bounds,
  ) {}

  /** Clear execution; throws InputOutOfRangeError when a value leaves the range the circuit was built for. */
  run(...inputs: Sample): Tensor[] {
    checkInRange(this.graph, this.bounds, inputs);
    return evaluate(this.graph, inputs);
  }

  describe(): string {
    return describe(this.graph, this.bounds);
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
  const graph = trace(fn, spec, shapes);
  const bounds = inferBounds(graph, inputset, options);
  return new Circuit(attachTables(graph, tablesOf(bounds)), bounds);
}
