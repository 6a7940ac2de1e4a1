// Deployment: a compiled model splits into the compiler's server half (the circuit, evaluated with
// evaluation keys only) and a model client that holds the secret key and everything the client side of
// inference needs: the feature encoder, the dequantization, the link and the classes. Requests and responses
// are the compiler's serialized values, one pair per batch of rows.
// The runtime's client, not the compiler's index: the browser client bundles this file without the compiler.
import type { CircuitServer } from "../compiler/index.js";
import { CircuitClient } from "../runtime/client.js";
import { type Label, type Link, type Dequantizer, columnsOf, dequantize, labelsOf, probabilitiesOf, valuesOf } from "./decode.js";
import { type Matrix, type MatrixLike, toMatrix } from "./data.js";
import { MlInputError } from "./errors.js";
import { AffineQuantizer, type AffineQuantizerJSON } from "./quantize.js";
import { RankEncoder, type RankEncoderJSON } from "./trees/rank-encoder.js";

export const MODEL_CLIENT_FORMAT = "umbra-ml-client/1";

export type EncoderSpec = { readonly kind: "affine"; readonly quantizer: AffineQuantizerJSON } | { readonly kind: "rank"; readonly ranks: RankEncoderJSON };

export interface ModelClientSpec {
  readonly model: string;
  readonly features: number;
  readonly batchSize: number;
  readonly encoder: EncoderSpec;
  readonly dequantizer: Dequantizer;
  readonly link: Link;
  /** Classifiers only. */
  readonly classes?: readonly Label[];
  /** Missing values replaced before encoding (an imported Imputer): feature j equal to `replaced` (null: NaN) becomes values[j]. */
  readonly impute?: { readonly values: readonly number[]; readonly replaced: number | null };
}

/** Rows with the imputation applied (the input is copied). */
export function imputeRows(M: Matrix, impute: ModelClientSpec["impute"]): Matrix {
  if (impute === undefined) return M;
  const data = Float64Array.from(M.data), { values, replaced } = impute;
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    if (replaced === null ? Number.isNaN(v) : v === replaced) data[k] = values[k % M.cols]!;
  }
  return { rows: M.rows, cols: M.cols, data };
}

export interface Deployment {
  readonly client: ModelClient;
  /** Serialize with `server.serialize()`; it holds the circuit, no key. */
  readonly server: CircuitServer;
}

/** Encrypted rows: one request per batch of `batchSize` rows (the last one padded). */
export interface EncryptedRows {
  readonly requests: Uint8Array[];
  readonly rows: number;
}

const toBase64 = (b: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export class ModelClient {
  readonly #encode: (X: MatrixLike) => { q: Int32Array; rows: number };

  constructor(readonly spec: ModelClientSpec, readonly circuit: CircuitClient) {
    const { encoder, features } = spec;
    const enc = encoder.kind === "affine" ? AffineQuantizer.fromJSON(encoder.quantizer) : RankEncoder.fromJSON(encoder.ranks);
    if (enc.features !== features) throw new MlInputError(`model client: the encoder has ${enc.features} features, the model ${features}`);
    const imp = spec.impute;
    if (imp !== undefined && !(Array.isArray(imp.values) && imp.values.length === features && imp.values.every(Number.isFinite) && (imp.replaced === null || Number.isFinite(imp.replaced)))) {
      throw new MlInputError(`model client: impute needs ${features} finite values and a replaced value (a number, or null for NaN)`);
    }
    this.#encode = (X) => {
      const M = imputeRows(toMatrix(X, { cols: features, allowNaN: encoder.kind === "rank" || spec.impute?.replaced === null }), spec.impute);
      return { q: enc instanceof AffineQuantizer ? enc.quantize(M).q : enc.encode(M).q, rows: M.rows };
    };
  }

  /** Generates the keys (the secret key stays here). */
  keygen(): void {
    this.circuit.keygen();
  }

  /** What the server needs to evaluate (undefined for lookup-free circuits, which need no key). */
  serializedEvaluationKeys(): Uint8Array | undefined {
    return this.circuit.serializedEvaluationKeys();
  }

  /** Encodes (values beyond the calibration range are clipped), pads and encrypts the rows, batch by batch. */
  encrypt(X: MatrixLike): EncryptedRows {
    const { q, rows } = this.#encode(X);
    const { batchSize: B, features: F } = this.spec;
    const requests: Uint8Array[] = [];
    for (let start = 0; start < rows; start += B) {
      const data = new Float64Array(B * F);
      data.set(q.subarray(start * F, Math.min(rows, start + B) * F));
      requests.push(this.circuit.encrypt({ shape: [B, F], data }));
    }
    return { requests, rows };
  }

  /** Dequantized scores [rows][outputs] from the server's responses (in request order). */
  decryptScores(responses: readonly Uint8Array[], rows: number): { data: Float64Array; rows: number } {
    const { batchSize: B } = this.spec, G = columnsOf(this.spec.dequantizer);
    if (responses.length !== Math.ceil(rows / B)) throw new MlInputError(`expected ${Math.ceil(rows / B)} responses for ${rows} rows, got ${responses.length}`);
    const acc = new Float64Array(rows * G);
    responses.forEach((r, b) => {
      const [t] = this.circuit.decrypt(r);
      const n = Math.min(B, rows - b * B);
      acc.set(t!.data.subarray(0, n * G), b * B * G);
    });
    return { data: dequantize(this.spec.dequantizer, acc, rows), rows };
  }

  /** Labels (classifiers) or values (regressors). */
  predict(responses: readonly Uint8Array[], rows: number): Label[] | number[] {
    const s = this.decryptScores(responses, rows);
    return this.spec.classes !== undefined ? labelsOf(s.data, rows, this.spec.classes) : valuesOf(s.data, this.spec.link);
  }

  predictProba(responses: readonly Uint8Array[], rows: number): number[][] {
    const s = this.decryptScores(responses, rows);
    return probabilitiesOf(s.data, rows, this.spec.link);
  }

  /** The client as text (JSON with the circuit client's bytes in base64), without keys. */
  serialize(): string {
    return JSON.stringify({ format: MODEL_CLIENT_FORMAT, spec: this.spec, circuit: toBase64(this.circuit.serialize()) });
  }

  static deserialize(text: string): ModelClient {
    let o: { format?: unknown; spec?: ModelClientSpec; circuit?: unknown };
    try {
      o = JSON.parse(text) as typeof o;
    } catch (e) {
      throw new MlInputError(`model client: not JSON (${(e as Error).message})`);
    }
    if (o?.format !== MODEL_CLIENT_FORMAT || typeof o.circuit !== "string" || typeof o.spec !== "object" || o.spec === null) {
      throw new MlInputError(`model client: expected ${MODEL_CLIENT_FORMAT} with a spec and a circuit`);
    }
    const { spec } = o;
    if (!Number.isInteger(spec.features) || !Number.isInteger(spec.batchSize) || spec.batchSize < 1) throw new MlInputError("model client: bad features or batchSize");
    const circuit = CircuitClient.deserialize(fromBase64(o.circuit));
    const input = circuit.spec.inputs[0];
    if (circuit.spec.inputs.length !== 1 || input!.shape.join() !== `${spec.batchSize},${spec.features}`) {
      throw new MlInputError("model client: the circuit's input does not match the batch size and features");
    }
    if (circuit.spec.outputs.length !== 1 || circuit.spec.outputs[0]!.shape.join() !== `${spec.batchSize},${columnsOf(spec.dequantizer)}`) {
      throw new MlInputError("model client: the circuit's output does not match the dequantizer");
    }
    return new ModelClient(spec, circuit);
  }
}
