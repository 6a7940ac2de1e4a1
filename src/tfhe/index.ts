// umbra/tfhe — the TFHE core: parameters, keys, encryption, linear operations, programmable bootstrapping.
export * from "./parameters.js";
export * from "./security.js";
export * from "./noise.js";
export {
  chooseParameters, estimateCost, constraintVariance, constraintsLog2PFail, DEFAULT_SECURITY_MARGIN_BITS,
  type ChooseParametersOptions, type CostEstimate, type NoiseConstraint,
} from "./optimizer.js";
export { estimateLatency, LATENCY_MODEL, MULTI_BIT_GGSW_FRACTION, type LatencyEstimate } from "./latency.js";
export { type Encoding, COMPILER_MANAGED, checkEncoding, encode, decode, deltaOf, plaintextModulus, noiseOf } from "./encoding.js";
export { ParameterMismatchError } from "./errors.js";
export { LweSecretKey, GlweSecretKey } from "./secret-key.js";
export { LweBatch, type CiphertextBounds, type NoiseSources } from "./lwe-batch.js";
export { CiphertextBoundsError, maxNoiseLevel } from "./noise-budget.js";
export { SeededLweBatch } from "./seeded-lwe.js";
export { encryptLwe, encryptPlaintexts, decryptLwe, lwePhases, trivialEncrypt } from "./lwe-encryption.js";
export { add, sub, neg, mulScalar, addPlain, matmul, dot, sum } from "./lwe-ops.js";
export { GlweCiphertext, encryptGlwe, encryptGlwePlaintext, decryptGlwe, glwePhase } from "./glwe.js";
export { GgswCiphertext, type GgswShape, encryptGgsw, externalProduct, cmux } from "./ggsw.js";
export { LookupTable, lookupTable, manyLookupTable } from "./lookup-table.js";
export { BootstrapKey, SeededBootstrapKey, FourierBootstrapKey, generateBootstrapKey } from "./bootstrap-key.js";
export { KeyswitchKey, SeededKeyswitchKey, KernelKeyswitchKey, generateKeyswitchKey, KEYSWITCH_BATCH, type KeyswitchKeyShape } from "./keyswitch-key.js";
export { ClientKey, WipedKeyError } from "./client-key.js";
export { ServerKey, type EvaluationKeys, type ServerKeyOptions } from "./server-key.js";
export { CompactPublicKey, CompactCiphertextList, checkPublicKeyParameters } from "./public-key.js";
export { newSeed, randomBytes, SeededStream } from "./random.js";
export type { Bootstrapper } from "./bootstrapper.js";
export { PbsWorkerPool, WorkerPoolError, type PbsWorkerPoolOptions } from "./worker-pool.js"; // Node-only (worker_threads, loaded lazily)
export {
  serialize, serializedSize, serializedSizes, type SerializedSizes, peekHeader, deserializeLweBatch, deserializeSeededLweBatch, deserializeBootstrapKey,
  deserializeSeededBootstrapKey, deserializeKeyswitchKey, deserializeSeededKeyswitchKey, deserializeClientKey,
  deserializeCompactPublicKey, deserializeCompactCiphertextList, deserializeEvaluationKeys, deserializeParameters,
  DeserializationError, FORMAT_VERSION, SerializedKind, DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT,
  type DeserializationErrorCode, type SerializedKindName, type PeekedHeader, type DeserializeOptions,
  type ParametersDecodeOptions, type Serializable, serializeKeyswitchKeyOfShape, deserializeKeyswitchKeyOfShape, serializeBundle, deserializeBundle, bundlePrefix, peekBundle, type PeekedBundle, seededKeyswitchKeySizeOfShape, MAX_JSON_DEPTH, MAX_PARTS, MAX_TYPE_BYTES, type Bundle,
} from "./serialization.js";
