// The client's keys: the small LWE key (n) and the GLWE key (k, N) whose flattening is the big key.
// Fresh ciphertexts are encrypted under the big key with the GLWE noise (KS→PBS order, as TFHE-rs).
import { checkEncoding, type Encoding } from "./encoding.js";
import { GlweSecretKey, LweSecretKey } from "./secret-key.js";
import { decryptLwe, encryptLwe, lwePhases } from "./lwe-encryption.js";
import { LweBatch } from "./lwe-batch.js";
import type { TfheParameters } from "./parameters.js";
import { bootstrapKeyShape, generateBootstrapKey } from "./bootstrap-key.js";
import { generateKeyswitchKey } from "./keyswitch-key.js";
import type { EvaluationKeys } from "./server-key.js";
import { newSeed } from "./random.js";
import { seededMasks } from "./masks.js";
import { SeededLweBatch, DOMAIN_CIPHERTEXT } from "./seeded-lwe.js";
import { checkNoiseLevel } from "./noise-budget.js";
import { CompactPublicKey } from "./public-key.js";

/** Thrown by every use of a client key after `wipe()`. */
export class WipedKeyError extends Error {
  override name = "WipedKeyError";
  constructor(what: string) {
    super(`this client key was wiped: ${what} needs the secret key (load or generate a new one)`);
  }
}

export class ClientKey {
  readonly #lweKey: LweSecretKey;
  readonly #glweKey: GlweSecretKey;
  #wiped = false;

  private constructor(readonly params: TfheParameters, lweKey: LweSecretKey, glweKey: GlweSecretKey) {
    this.#lweKey = lweKey;
    this.#glweKey = glweKey;
  }

  /** Fresh secret keys from the platform CSPRNG. */
  static generate(params: TfheParameters): ClientKey {
    return new ClientKey(params, LweSecretKey.generate(params.lweDimension),
      GlweSecretKey.generate(params.glweDimension, params.polynomialSize));
  }

  /** Rebuilds a client key from its parts (deserialization). */
  static fromParts(params: TfheParameters, lweKey: LweSecretKey, glweKey: GlweSecretKey): ClientKey {
    if (lweKey.dimension !== params.lweDimension) throw new RangeError("LWE key does not match the parameters");
    if (glweKey.glweDimension !== params.glweDimension || glweKey.polynomialSize !== params.polynomialSize) {
      throw new RangeError("GLWE key does not match the parameters");
    }
    return new ClientKey(params, lweKey, glweKey);
  }

  #live(what: string): void {
    if (this.#wiped) throw new WipedKeyError(what);
  }

  /** True once `wipe()` has run: every use of the key then throws WipedKeyError. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /** The small LWE key (dimension n). */
  get lweKey(): LweSecretKey {
    this.#live("lweKey");
    return this.#lweKey;
  }

  /** The GLWE key (k polynomials of size N). */
  get glweKey(): GlweSecretKey {
    this.#live("glweKey");
    return this.#glweKey;
  }

  /** The parameter set's message space (message + carry bits). */
  get encoding(): Encoding {
    return { bits: this.params.messageBits + this.params.carryBits };
  }

  /** The big key (dimension kN) ciphertexts live under. */
  get bigKey(): LweSecretKey {
    this.#live("bigKey");
    return this.#glweKey.asLweKey();
  }

  /**
   * Encrypts an array of integers as one contiguous batch (a checked encoding reduces them mod 2^bits).
   * A lone number is refused: pass [m].
   */
  encrypt(messages: ArrayLike<number>, encoding: Encoding = this.encoding): LweBatch {
    this.#live("encrypt");
    checkEncoding(encoding);
    return encryptLwe(this.bigKey, messages, encoding, this.params.glweNoiseStd);
  }

  /** Encrypts with masks expanded from a fresh seed: serializes to 32 bytes + one word per value. */
  encryptCompressed(messages: ArrayLike<number>, encoding: Encoding = this.encoding): SeededLweBatch {
    this.#live("encryptCompressed");
    checkEncoding(encoding);
    const seed = newSeed();
    const batch = encryptLwe(this.bigKey, messages, encoding, this.params.glweNoiseStd, seededMasks(seed, DOMAIN_CIPHERTEXT));
    return SeededLweBatch.fromBatch(batch, seed);
  }

  /**
   * Decrypts with the batch's encoding. A checked batch whose values may lie outside [0, p) (the padding
   * bit) or whose noise level exceeds the parameters' limit is refused with CiphertextBoundsError.
   */
  decrypt(batch: LweBatch): Uint32Array {
    this.#live("decrypt");
    if (!(batch instanceof LweBatch)) throw new TypeError("decrypt expects an LweBatch");
    checkNoiseLevel(batch.bounds, batch.encoding, this.params, "cannot decrypt this batch");
    return decryptLwe(this.bigKey, batch);
  }

  /** Raw phases μ + e, unchecked (noise measurements; the compiler's own decoding mod 2p). */
  phases(batch: LweBatch): BigUint64Array {
    this.#live("phases");
    return lwePhases(this.bigKey, batch);
  }

  /** Generates the evaluation keys (bootstrapping and key-switching keys) to send to a server. */
  evaluationKeys(): EvaluationKeys {
    this.#live("evaluationKeys");
    const p = this.params;
    return {
      params: p,
      bootstrapKey: generateBootstrapKey(this.lweKey, this.glweKey, bootstrapKeyShape(p), p.glweNoiseStd),
      keyswitchKey: generateKeyswitchKey(this.bigKey, this.lweKey, p.ksBaseLog, p.ksLevel, p.lweNoiseStd),
    };
  }

  /** The compact public key of this key (see CompactPublicKey.generate for the sets that have one). */
  compactPublicKey(): CompactPublicKey {
    this.#live("compactPublicKey");
    return CompactPublicKey.generate(this.bigKey, this.params);
  }

  /** Overwrites the key material; every later use of this key throws WipedKeyError. */
  wipe(): void {
    this.#lweKey.wipe();
    this.#glweKey.wipe();
    this.#wiped = true;
  }

  toJSON(): never {
    throw new TypeError("client keys are not JSON-serializable; use the binary format on the client only");
  }
}
