// Client-side operations at the main set: encryption (plain, seeded, with the compact public key) and
// decryption, one value and a batch, public-key generation and the sizes of the public-key objects; and
// the encryption of one 8-bit value at PARAM_MESSAGE_8 (client key only, no server key needed).
import { ClientKey, CompactPublicKey, PARAM_MESSAGE_8 } from "../../src/tfhe/index.js";
import { latency, sample } from "../harness.js";
import type { Ctx } from "../plan.js";
import { serializedSizeResult } from "./keys.js";

export function benchEncryption(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const p = plan.main;
  const client = ctx.mainKeys?.client ?? ClientKey.generate(p);
  const bits = p.messageBits + p.carryBits;
  const values = Array.from({ length: plan.batch }, (_, i) => i % 2 ** bits);
  const reps = plan.cheapReps;
  const batchReps = Math.max(2, reps / 5 | 0);
  log(`${p.name}: encryption and decryption`);
  const extra = { params: p.name };
  emit(latency(`encrypt/1/${p.name}`, "encrypt", sample(() => { client.encrypt([3]); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.encrypt(values); }, batchReps), { ...extra, batch: plan.batch }));
  emit(latency(`encrypt-seeded/1/${p.name}`, "encrypt", sample(() => { client.encryptCompressed([3]); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt-seeded/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.encryptCompressed(values); }, batchReps), { ...extra, batch: plan.batch }));
  let pk!: CompactPublicKey;
  emit(latency(`keygen/public-key/${p.name}`, "keygen", sample(() => { pk = CompactPublicKey.generate(client.bigKey, p); }, Math.max(2, reps / 5 | 0)), extra));
  emit(latency(`encrypt-public-key/1/${p.name}`, "encrypt", sample(() => { pk.encrypt([3], client.encoding); }, reps), { ...extra, batch: 1 }));
  emit(latency(`encrypt-public-key/${plan.batch}/${p.name}`, "encrypt", sample(() => { pk.encrypt(values, client.encoding); }, batchReps), { ...extra, batch: plan.batch }));
  const one = client.encrypt([3]), many = client.encrypt(values);
  emit(latency(`decrypt/1/${p.name}`, "encrypt", sample(() => { client.decrypt(one); }, reps), { ...extra, batch: 1 }));
  emit(latency(`decrypt/${plan.batch}/${p.name}`, "encrypt", sample(() => { client.decrypt(many); }, batchReps), { ...extra, batch: plan.batch }));
  const list1 = pk.encrypt([3], client.encoding), listB = pk.encrypt(values, client.encoding);
  emit(latency(`expand-public-key-list/${plan.batch}/${p.name}`, "encrypt", sample(() => { listB.expand(); }, batchReps), { ...extra, batch: plan.batch }));
  emit(serializedSizeResult("public-key", p, () => pk));
  emit(serializedSizeResult("public-key-list-1", p, () => list1));
  emit(serializedSizeResult(`public-key-list-${plan.batch}`, p, () => listB));
}

/** One 8-bit value at PARAM_MESSAGE_8: what node-tfhe's FheUint8 encryption is compared with. */
export function benchEncryption8Bit(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const p = PARAM_MESSAGE_8;
  log(`${p.name}: encryption and decryption of one 8-bit value (client key only)`);
  const client = ClientKey.generate(p);
  const x = 200;
  const note = "one 8-bit value as one ciphertext; client key only (no server key generated)";
  let ct = client.encrypt([x]);
  emit(latency(`encrypt/1/${p.name}`, "encrypt", sample(() => { ct = client.encrypt([x]); }, plan.cheapReps), { params: p.name, batch: 1, note }));
  let v = 0;
  emit(latency(`decrypt/1/${p.name}`, "encrypt", sample(() => { v = client.decrypt(ct)[0]!; }, plan.cheapReps), {
    params: p.name, batch: 1, note: note + (v === x ? "" : `; WARNING: decrypted ${v}, expected ${x}`),
  }));
  client.wipe();
}
