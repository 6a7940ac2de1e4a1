// The client's keys: the small LWE key (n) and the GLWE key (k, N) whose flattening is the big key.
// Fresh ciphertexts are encrypted under the big key with the GLWE noise (KS→PBS order, as TFHE-rs).
import type { Encoding } from "./encoding.js";
import { GlweSecretKey, LweSecretKey } from "./secret-key.js";
import { decryptLwe, encryptLwe, lwePhases } from "./lwe-encryption.js";
import type { LweBatch } from "./lwe-batch.js";
import type { TfheParameters } from "./parameters.js";
import { bootstrapKeyShape, generateBootstrapKey } from "./bootstrap-key.js";
import { generateKeyswitchKey } from "./keyswitch-key.js";
import type { EvaluationKeys } from "./server-key.js";
import { newSeed } from "./random.js";
import { seededMasks } from "./masks.js";
import { SeededLweBatch, DOMAIN_CIPHERTEXT } from "./seeded-lwe.js";

export class ClientKey {
  private constructor(
    readonly params: TfheParameters,
    readonly lweKey: LweSecretKey,
    readonly glweKey: GlweSecretKey,
  ) {}

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

  /** The parameter set's message space (message + carry bits). */
  get encoding(): Encoding {
    return { bits: this.params.messageBits + this.params.carryBits };
  }

  /** The big key (dimension kN) ciphertexts live under. */
  get bigKey(): LweSecretKey {
    return this.glweKey.asLweKey();
  }

  /** Encrypts integers (taken mod 2^bits) as one contiguous batch. */
  encrypt(messages: ArrayLike<number>, encoding: Encoding = this.encoding): LweBatch {
    return encryptLwe(this.bigKey, messages, encoding, this.params.glweNoiseStd);
  }

  /** Encrypts with masks expanded from a fresh seed: serializes to 32 bytes + one word per value. */
  encryptCompressed(messages: ArrayLike<number>, encoding: Encoding = this.encoding): SeededLweBatch {
    const seed = newSeed();
    const batch = encryptLwe(this.bigKey, messages, encoding, this.params.glweNoiseStd, seededMasks(seed, DOMAIN_CIPHERTEXT));
    return SeededLweBatch.fromBatch(batch, seed);
  }

  decrypt(batch: LweBatch, encoding: Encoding = batch.encoding): Uint32Array {
    return decryptLwe(this.bigKey, batch, encoding);
  }

  /** Raw phases μ + e (for noise measurements). */
  phases(batch: LweBatch): BigUint64Array {
    return lwePhases(this.bigKey, batch);
  }

  /** Generates the evaluation keys (bootstrapping and key-switching keys) to send to a server. */
  evaluationKeys(): EvaluationKeys {
    const p = this.params;
    return {
      params: p,
      bootstrapKey: generateBootstrapKey(this.lweKey, this.glweKey, bootstrapKeyShape(p), p.glweNoiseStd),
      keyswitchKey: generateKeyswitchKey(this.bigKey, this.lweKey, p.ksBaseLog, p.ksLevel, p.lweNoiseStd),
    };
  }

  wipe(): void {
    this.lweKey.wipe();
    this.glweKey.wipe();
  }

  toJSON(): never {
    throw new TypeError("client keys are not JSON-serializable; use the binary format on the client only");
  }
}
