// The same-run reference: Zama's node-tfhe (TFHE-rs compiled to WebAssembly; key generation, encryption,
// decryption and serialization only — that build has no homomorphic operations). Its high-level API with
// the default config, and its shortint API at the numbers of umbra's PARAM_MESSAGE_4. node-tfhe is typed
// here by the small subset used, so the build needs no types; failures are recorded, never thrown.
import { createRequire } from "node:module";
import { PARAM_MESSAGE_4 } from "../../src/tfhe/index.js";
import { errorText, latency, sample, size } from "../harness.js";
import type { Ctx } from "../plan.js";

interface Freeable { free(): void }
interface SafeSerializable extends Freeable { safe_serialize(limit: bigint): Uint8Array }
interface NodeTfhe {
  TfheConfigBuilder: { default(): { build(): Freeable } };
  TfheClientKey: { generate(config: unknown): SafeSerializable };
  TfheCompressedServerKey: { "new"(clientKey: unknown): SafeSerializable };
  TfheCompactPublicKey: { "new"(clientKey: unknown): SafeSerializable };
  FheUint8: { encrypt_with_client_key(v: number, clientKey: unknown): SafeSerializable & { decrypt(clientKey: unknown): number } };
  CompressedFheUint8: { encrypt_with_client_key(v: number, clientKey: unknown): SafeSerializable };
  CompactCiphertextList: { builder(pk: unknown): Freeable & { push_u8(v: number): void; build_packed(): SafeSerializable } };
  ShortintParametersName: Record<string, number | string>;
  ShortintParameters: new (name: number) => Freeable & {
    lwe_dimension(): number; glwe_dimension(): number; polynomial_size(): number; pbs_base_log(): number; pbs_level(): number;
    ks_base_log(): number; ks_level(): number; message_modulus(): bigint; carry_modulus(): bigint;
  };
  Shortint: {
    new_client_key(params: unknown): Freeable;
    new_compressed_server_key(clientKey: unknown): Freeable;
    encrypt(clientKey: unknown, m: bigint): Freeable;
    encrypt_compressed(clientKey: unknown, m: bigint): Freeable;
    decrypt(clientKey: unknown, ct: unknown): bigint;
    serialize_client_key(ck: unknown): Uint8Array;
    serialize_compressed_server_key(sk: unknown): Uint8Array;
    serialize_ciphertext(ct: unknown): Uint8Array;
    serialize_compressed_ciphertext(ct: unknown): Uint8Array;
  };
}

const SERIALIZE_LIMIT = 1n << 40n;
export const HL_NOTE = "high-level API, default config (TFHE-rs 1.7 defaults: 2+2-bit blocks, p_fail 2^-128); FheUint8 = 4 blocks";
/** The TFHE-rs shortint set with the same numbers as umbra's PARAM_MESSAGE_4 (n=834, k=1, N=2048, 23×1, 3×5). */
export const SHORTINT_SET = "V0_11_PARAM_MESSAGE_2_CARRY_2_KS_PBS_GAUSSIAN_2M64";

export function benchReference(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const full = plan.reference === "full";
  const reps = full ? 20 : 1, keyReps = full ? 10 : 1;
  log("node-tfhe: load");
  let T: NodeTfhe;
  let version = "unknown";
  const t0 = performance.now();
  try {
    const req = createRequire(import.meta.url);
    T = req("node-tfhe") as NodeTfhe;
    try { version = (req("node-tfhe/package.json") as { version: string }).version; } catch { /* version unknown */ }
  } catch (e) {
    emit({ name: "node-tfhe/load", section: "reference", error: errorText(e), note: "node-tfhe could not be loaded: no reference figures", n: 0, unit: "ms" });
    return;
  }
  emit(latency("node-tfhe/load", "reference", [performance.now() - t0], { note: `node-tfhe ${version}: require() incl. synchronous compilation of its 4.4 MB wasm` }));

  const item = (name: string, unit: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      emit({ name, section: "reference", error: errorText(e), n: 0, unit });
    }
  };
  const hl = HL_NOTE;

  // High-level API (what a web client of TFHE-rs uses).
  item("node-tfhe/keygen/client-key", "ms", () => {
    const config = T.TfheConfigBuilder.default().build();
    let ck: SafeSerializable | undefined;
    const s = sample(() => { ck?.free(); ck = T.TfheClientKey.generate(config); }, keyReps, 0);
    emit(latency("node-tfhe/keygen/client-key", "reference", s, { note: hl }));
    const clientKey = ck!;
    emit(size("node-tfhe/size/client-key", clientKey.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
    if (full) {
      item("node-tfhe/keygen/compressed-server-key", "ms", () => {
        let sk!: SafeSerializable;
        log("node-tfhe: compressed server key (slow)");
        const s2 = sample(() => { sk = T.TfheCompressedServerKey.new(clientKey); }, 1, 0);
        emit(latency("node-tfhe/keygen/compressed-server-key", "reference", s2, { note: `${hl}; includes the extra keys of the default config` }));
        emit(size("node-tfhe/size/compressed-server-key", sk.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
        sk.free();
      });
    }
    item("node-tfhe/keygen/compact-public-key", "ms", () => {
      let pk: SafeSerializable | undefined;
      const s3 = sample(() => { pk?.free(); pk = T.TfheCompactPublicKey.new(clientKey); }, keyReps, 0);
      emit(latency("node-tfhe/keygen/compact-public-key", "reference", s3, { note: hl }));
      emit(size("node-tfhe/size/compact-public-key", pk!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      item("node-tfhe/encrypt-public-key/FheUint8", "ms", () => {
        let list: SafeSerializable | undefined;
        const s4 = sample(() => {
          list?.free();
          const b = T.CompactCiphertextList.builder(pk!);
          b.push_u8(200);
          list = b.build_packed();
          b.free();
        }, reps);
        emit(latency("node-tfhe/encrypt-public-key/FheUint8", "reference", s4, { batch: 1, note: `${hl}; compact list of one u8` }));
        emit(size("node-tfhe/size/public-key-list-FheUint8", list!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: `${hl}; compact list of one u8` }));
        list!.free();
      });
      pk!.free();
    });
    item("node-tfhe/encrypt/FheUint8", "ms", () => {
      let ct: (SafeSerializable & { decrypt(k: unknown): number }) | undefined;
      const s5 = sample(() => { ct?.free(); ct = T.FheUint8.encrypt_with_client_key(200, clientKey); }, reps);
      emit(latency("node-tfhe/encrypt/FheUint8", "reference", s5, { batch: 1, note: `${hl}; client key` }));
      emit(size("node-tfhe/size/FheUint8", ct!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      let v = 0;
      const s6 = sample(() => { v = ct!.decrypt(clientKey); }, reps * 2);
      emit(latency("node-tfhe/decrypt/FheUint8", "reference", s6, { batch: 1, note: hl + (v === 200 ? "" : `; WARNING: decrypted ${v}`) }));
      ct!.free();
    });
    item("node-tfhe/encrypt/CompressedFheUint8", "ms", () => {
      let ct: SafeSerializable | undefined;
      const s7 = sample(() => { ct?.free(); ct = T.CompressedFheUint8.encrypt_with_client_key(200, clientKey); }, reps);
      emit(latency("node-tfhe/encrypt/CompressedFheUint8", "reference", s7, { batch: 1, note: `${hl}; client key, seeded` }));
      emit(size("node-tfhe/size/CompressedFheUint8", ct!.safe_serialize(SERIALIZE_LIMIT).byteLength, "serialize", { section: "reference", note: hl }));
      ct!.free();
    });
    clientKey.free();
    config.free();
  });

  // Shortint API at the very parameters of umbra's PARAM_MESSAGE_4: the like-for-like comparison.
  item("node-tfhe/shortint/keygen/client-key", "ms", () => {
    const id = T.ShortintParametersName[SHORTINT_SET];
    if (typeof id !== "number") throw new Error(`node-tfhe has no ${SHORTINT_SET}`);
    const sp = new T.ShortintParameters(id);
    const u = PARAM_MESSAGE_4;
    const same = sp.lwe_dimension() === u.lweDimension && sp.glwe_dimension() === u.glweDimension &&
      sp.polynomial_size() === u.polynomialSize && sp.pbs_base_log() === u.pbsBaseLog && sp.pbs_level() === u.pbsLevel &&
      sp.ks_base_log() === u.ksBaseLog && sp.ks_level() === u.ksLevel && sp.message_modulus() * sp.carry_modulus() === 16n;
    const sn = `shortint ${SHORTINT_SET} (n=${sp.lwe_dimension()}, k=${sp.glwe_dimension()}, N=${sp.polynomial_size()}, ` +
      `PBS 2^${sp.pbs_base_log()}×${sp.pbs_level()}, KS 2^${sp.ks_base_log()}×${sp.ks_level()}: ` +
      `${same ? "the same numbers as" : "DIFFERENT from"} umbra's PARAM_MESSAGE_4)`;
    let ck: Freeable | undefined;
    const s = sample(() => { ck?.free(); ck = T.Shortint.new_client_key(sp); }, keyReps, 0);
    emit(latency("node-tfhe/shortint/keygen/client-key", "reference", s, { note: sn }));
    const clientKey = ck!;
    emit(size("node-tfhe/shortint/size/client-key", T.Shortint.serialize_client_key(clientKey).byteLength, "serialize", { section: "reference", note: sn }));
    if (full) {
      item("node-tfhe/shortint/keygen/compressed-server-key", "ms", () => {
        log("node-tfhe: shortint compressed server key (slow)");
        let sk!: Freeable;
        const s2 = sample(() => { sk = T.Shortint.new_compressed_server_key(clientKey); }, 1, 0);
        emit(latency("node-tfhe/shortint/keygen/compressed-server-key", "reference", s2, { note: `${sn}; seeded BSK + KSK` }));
        emit(size("node-tfhe/shortint/size/compressed-server-key", T.Shortint.serialize_compressed_server_key(sk).byteLength, "serialize", { section: "reference", note: sn }));
        sk.free();
      });
    }
    item("node-tfhe/shortint/encrypt", "ms", () => {
      let ct: Freeable | undefined;
      const s3 = sample(() => { ct?.free(); ct = T.Shortint.encrypt(clientKey, 3n); }, reps);
      emit(latency("node-tfhe/shortint/encrypt", "reference", s3, { batch: 1, note: `${sn}; one block` }));
      emit(size("node-tfhe/shortint/size/ciphertext", T.Shortint.serialize_ciphertext(ct!).byteLength, "serialize", { section: "reference", note: sn }));
      let v = 0n;
      const s4 = sample(() => { v = T.Shortint.decrypt(clientKey, ct!); }, reps * 2);
      emit(latency("node-tfhe/shortint/decrypt", "reference", s4, { batch: 1, note: sn + (v === 3n ? "" : `; WARNING: decrypted ${v}`) }));
      ct!.free();
    });
    item("node-tfhe/shortint/encrypt-compressed", "ms", () => {
      let ct: Freeable | undefined;
      const s5 = sample(() => { ct?.free(); ct = T.Shortint.encrypt_compressed(clientKey, 3n); }, reps);
      emit(latency("node-tfhe/shortint/encrypt-compressed", "reference", s5, { batch: 1, note: `${sn}; one block, seeded` }));
      emit(size("node-tfhe/shortint/size/ciphertext-compressed", T.Shortint.serialize_compressed_ciphertext(ct!).byteLength, "serialize", { section: "reference", note: sn }));
      ct!.free();
    });
    clientKey.free();
    sp.free();
  });
}
