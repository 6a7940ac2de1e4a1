// Per parameter set: key generation, server key load, PBS latency (key switch + blind rotation + sample
// extraction, one ciphertext), key-switch latency, then the sizes. Keys that exceed the server key's
// kernel-memory budget (PARAM_MESSAGE_8) are streamed from host memory by ServerKey itself.
import { ServerKey, type ClientKey, type EvaluationKeys, type TfheParameters } from "../../src/tfhe/index.js";
import { KEYSWITCH_BATCH } from "../../src/tfhe/keyswitch-key.js";
import { round } from "../format.js";
import { latency, sample } from "../harness.js";
import type { Ctx } from "../plan.js";
import { benchKeygen, benchSizes } from "./keys.js";
import { benchBatchedRotation } from "./batched.js";

export function benchSet(ctx: Ctx, p: TfheParameters): void {
  const { client, keys } = benchKeygen(ctx, p);
  benchPbs(ctx, p, client, keys);
  // After the server key is freed: at PARAM_MESSAGE_8 the seeded BSK copy alone is 2.7 GiB.
  benchSizes(ctx, p, client, keys);
  if (p === ctx.plan.main) ctx.mainKeys = { client, keys };
}

/** Where the server key holds its keys, for the server-key-load note. */
function residency(server: ServerKey): { streamed: boolean; note: string } {
  const bsk = server.bsk.resident, ksk = server.ksk.resident;
  if (bsk && ksk) return { streamed: false, note: "Fourier conversion of the BSK + KSK copy into kernel memory" };
  const which = !bsk && !ksk ? "BSK and KSK" : bsk ? "KSK" : "BSK";
  return {
    streamed: true,
    note: `Fourier conversion of the BSK into ${bsk ? "kernel" : "host"} memory${ksk ? " + KSK copy into kernel memory" : ""}; ` +
      `${which} streamed from host memory at every PBS (beyond the server key's kernel-memory budget)`,
  };
}

function benchPbs(ctx: Ctx, p: TfheParameters, client: ClientKey, keys: EvaluationKeys): void {
  const { plan, emit, log } = ctx;
  log(`${p.name}: PBS latency`);
  const t = performance.now();
  const server = new ServerKey(keys);
  const loadMs = performance.now() - t;
  const where = residency(server);
  emit(latency(`server-key-load/${p.name}`, "pbs", [loadMs], { params: p.name, note: where.note }));
  try {
    const bits = p.messageBits + p.carryBits;
    const m = (2 ** bits) - 1;
    const f = (x: number) => (x + 1) % (2 ** bits);
    const lut = server.lookupTable(f);
    const ct = client.encrypt([m]);
    const t0 = performance.now();
    const check = client.decrypt(server.bootstrap(ct, lut))[0];
    const first = performance.now() - t0;
    const pbs = sample(() => { server.bootstrap(ct, lut); }, plan.pbsReps(p), 0);
    emit(latency(`pbs/${p.name}`, "pbs", pbs, {
      params: p.name,
      note: [
        check === f(m) ? "" : `WARNING: decrypted ${check}, expected ${f(m)}`,
        `key switch + blind rotation + sample extraction, 1 ciphertext; first run ${round(first)} ms`,
        where.streamed ? "keys streamed from host memory (see server-key-load)" : "",
      ].filter((x) => x !== "").join("; "),
    }));
    emit(latency(`keyswitch/${p.name}`, "pbs", sample(() => { server.keyswitch(ct); }, plan.ksReps(p)), { params: p.name }));
    // A batch shares one pass over the key (KEYSWITCH_BATCH ciphertexts per pass): time per ciphertext.
    const eight = client.encrypt(new Array<number>(KEYSWITCH_BATCH).fill(m));
    emit(latency(`keyswitch-batch/${p.name}`, "pbs", sample(() => { server.keyswitch(eight); }, plan.ksReps(p)).map((v) => v / KEYSWITCH_BATCH), {
      params: p.name, note: `per ciphertext, in a batch of ${KEYSWITCH_BATCH} (one pass over the key-switching key)`,
    }));
    if (plan.batchedSets.includes(p)) {
      log(`${p.name}: batched vs one-at-a-time blind rotation`);
      benchBatchedRotation(server, emit, plan.speedRounds, plan.batchSizes);
    }
  } finally {
    server.free();
  }
}
