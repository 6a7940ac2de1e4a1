// Entry point in the manner of Concrete's `compile`: trace, verify, measure bounds on the inputset, build
// lookup tables. Parameters, keys and the server key are made lazily on first use of the FHE side.
import { type Bounds, type BoundsOptions, checkInRange, inferBounds, tablesOf } from "./bounds.js";
import { describe, graphText } from "./describe.js";
import { GraphError } from "./errors.js";
import type { Graph } from "./ir.js";
import { evaluate } from "./interpreter.js";
import { attachTables } from "./passes.js";
import type { Shape } from "./shape.js";
import { type Tensor, type TensorLike, toTensor } from "./tensor.js";
import { type InputSpec, type TraceFn, trace } from "./tracer.js";
import { bindInputs } from "./interpreter.js";
import { type CircuitEncoding, planEncoding } from "./encoding.js";
import { type CircuitParameters, type ParameterOptions, chooseCircuitParameters } from "./params.js";
import { type SimulateOptions, simulateGraph } from "./simulate.js";
import { type CircuitKeys, CircuitServer, decryptOutputs, encryptInputs, generateKeys } from "./fhe.js";
import { ServerKey } from "../tfhe/index.js";

export interface CompileOptions extends BoundsOptions, ParameterOptions {
  /** Input shapes; by default taken from the first inputset sample. */
  readonly shapes?: Readonly<Record<string, Shape>>;
}

export type Sample = readonly (TensorLike | Tensor)[];

export class Circuit {
  #encoding: CircuitEncoding | undefined;
  #parameters: CircuitParameters | undefined;
  #keys: CircuitKeys | undefined;
  #server: CircuitServer | undefined;

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
    return (this.#parameters ??= chooseCircuitParameters(this.encoding, this.options));
  }

  /** Fresh keys for this circuit's parameters (also cached for encryptRunDecrypt). */
  keygen(): CircuitKeys {
    this.#server?.server?.free();
    this.#server = undefined;
    this.#keys = generateKeys(this.parameters);
    return this.#keys;
  }

  /** Real FHE: keygen (cached), encrypt the encrypted inputs, evaluate with evaluation keys, decrypt. */
  encryptRunDecrypt(...inputs: Sample): Tensor[] {
    checkInRange(this.graph, this.bounds, inputs);
    const keys = this.#keys ?? this.keygen();
    this.#server ??= new CircuitServer(this.graph, this.encoding,
      keys.evaluationKeys === undefined ? undefined : new ServerKey(keys.evaluationKeys));
    const bits = this.encoding.bits;
    const encrypted = encryptInputs(keys.client, this.graph, bits, bindInputs(this.graph, inputs));
    return decryptOutputs(keys.client, this.graph, this.bounds, bits, this.#server.run(encrypted));
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

  /** Frees the server key's kernel memory (keys are regenerated on next use). */
  dispose(): void {
    this.#server?.server?.free();
    this.#server = undefined;
    this.#keys = undefined;
  }

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
  const { pFail, globalPError } = options;
  return new Circuit(attachTables(graph, tablesOf(bounds)), bounds,
    { ...(pFail !== undefined ? { pFail } : {}), ...(globalPError !== undefined ? { globalPError } : {}) });
}
