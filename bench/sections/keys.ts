// Key generation per set (secret keys, bootstrapping key, key-switching key, each timed on its own) and
// the sizes of the keys and ciphertexts: bytes of serialize(), and the Fourier BSK a server key holds.
import {
  ClientKey, bootstrapKeyBytes, serialize, serializedSize, type EvaluationKeys, type Serializable, type TfheParameters,
} from "../../src/tfhe/index.js";
import { bootstrapKeyShape, generateBootstrapKey } from "../../src/tfhe/bootstrap-key.js";
import { generateKeyswitchKey } from "../../src/tfhe/keyswitch-key.js";
import { errorText, latency, sample, size, type BenchResult } from "../harness.js";
import type { Ctx } from "../plan.js";

/** Generates the keys of `p`, timing each kind; returns the last ones generated. */
export function benchKeygen(ctx: Ctx, p: TfheParameters): { client: ClientKey; keys: EvaluationKeys } {
  const { plan, emit, log } = ctx;
  log(`${p.name}: key generation`);
  let client!: ClientKey;
  emit(latency(`keygen/secret-key/${p.name}`, "keygen", sample(() => { client = ClientKey.generate(p); }, Math.max(10, plan.cheapReps / 5 | 0), 0), { params: p.name }));
  const keyReps = plan.keyReps(p);
  let bootstrapKey!: EvaluationKeys["bootstrapKey"];
  emit(latency(`keygen/bsk/${p.name}`, "keygen", sample(() => {
    bootstrapKey = generateBootstrapKey(client.lweKey, client.glweKey, bootstrapKeyShape(p), p.glweNoiseStd);
  }, keyReps, 0), { params: p.name }));
  let keyswitchKey!: EvaluationKeys["keyswitchKey"];
  emit(latency(`keygen/ksk/${p.name}`, "keygen", sample(() => {
    keyswitchKey = generateKeyswitchKey(client.bigKey, client.lweKey, p.ksBaseLog, p.ksLevel, p.lweNoiseStd);
  }, keyReps, 0), { params: p.name }));
  return { client, keys: { params: p, bootstrapKey, keyswitchKey } };
}

/** Objects above this are sized with serializedSize(): serializing would need a second copy in memory. */
const MAX_SERIALIZE_BYTES = 512 * 2 ** 20;

/** `size/<key>/<set>`: the bytes of serialize(object()), or its exact serializedSize() for big objects. */
export function serializedSizeResult(key: string, p: TfheParameters, object: () => Serializable): BenchResult {
  const name = `size/${key}/${p.name}`;
  try {
    const obj = object();
    const bytes = serializedSize(obj);
    if (bytes <= MAX_SERIALIZE_BYTES) return size(name, serialize(obj, p).byteLength, "serialize", { params: p.name });
    return size(name, bytes, "serialize", { params: p.name, note: "serializedSize() (exact length of serialize(), not materialized)" });
  } catch (e) {
    return { name, section: "sizes", params: p.name, error: errorText(e), n: 0, unit: "bytes" };
  }
}

/** Sizes of the keys and of one ciphertext at `p` (the seeded BSK copy is made only here). */
export function benchSizes(ctx: Ctx, p: TfheParameters, client: ClientKey, keys: EvaluationKeys): void {
  const m = 2 ** (p.messageBits + p.carryBits) - 1;
  const objects: [string, () => Serializable][] = [
    ["secret-key", () => client],
    ["bsk", () => keys.bootstrapKey],
    ["bsk-seeded", () => keys.bootstrapKey.compress()],
    ["ksk", () => keys.keyswitchKey],
    ["ksk-seeded", () => keys.keyswitchKey.compress()],
    ["evaluation-keys", () => keys],
    ["ciphertext", () => client.encrypt([m])],
    ["ciphertext-seeded", () => client.encryptCompressed([m])],
  ];
  for (const [key, object] of objects) ctx.emit(serializedSizeResult(key, p, object));
  ctx.emit(size(`size/fourier-bsk/${p.name}`, bootstrapKeyBytes(p), "memory", { params: p.name, note: "Fourier BSK (f64) held by a server key: kernel memory, or host memory when streamed" }));
}
