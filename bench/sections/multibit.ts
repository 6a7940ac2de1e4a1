// Classic vs multi-bit PBS at the same precision: KS + PBS per ciphertext alone and in a batch of 8,
// interleaved round by round in one process (thread CPU time, medians), next to estimateCost's ratio.
import { ClientKey, ServerKey, estimateCost, type TfheParameters } from "../../src/tfhe/index.js";
import { round } from "../format.js";
import { latency, median, type BenchResult } from "../harness.js";

function cpuMs(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

export function benchMultiBit(sets: readonly TfheParameters[], emit: (r: BenchResult) => void, rounds: number): void {
  const runs = sets.map((p) => {
    const client = ClientKey.generate(p);
    const server = new ServerKey(client.evaluationKeys());
    const bits = p.messageBits + p.carryBits;
    const lut = server.lookupTable((x) => (x + 1) % 2 ** bits);
    const one = client.encrypt([3]), eight = client.encrypt(Array.from({ length: 8 }, (_, i) => i % 2 ** bits));
    const ok = client.decrypt(server.bootstrap(eight, lut)).every((v, i) => v === ((i % 2 ** bits) + 1) % 2 ** bits);
    return { p, client, server, lut, one, eight, ok, single: [] as number[], batch: [] as number[] };
  });
  try {
    for (let r = 0; r < rounds; r++) {
      for (const x of r % 2 === 0 ? runs : [...runs].reverse()) {
        x.single.push(cpuMs(() => x.server.bootstrap(x.one, x.lut)));
        x.batch.push(cpuMs(() => x.server.bootstrap(x.eight, x.lut)) / 8);
      }
    }
    const ref = runs[0]!;
    for (const x of runs) {
      const cost = estimateCost(x.p).total / estimateCost(ref.p).total;
      emit(latency(`ks+pbs/${x.p.name}/single`, "speed", x.single, {
        params: x.p.name, note: `CPU ms; ${x.p.groupingFactor ? `multi-bit d = ${x.p.groupingFactor}` : "classic"}` +
          `${x.ok ? "" : "; WARNING: wrong results"}; estimateCost ${round(cost, 3)}× ${ref.p.name}'s`,
      }));
      emit(latency(`ks+pbs/${x.p.name}/per-pbs-in-batch-of-8`, "speed", x.batch, { params: x.p.name, batch: 8, note: "CPU ms per PBS" }));
      if (x !== ref) {
        emit({
          name: `ks+pbs/${x.p.name}/vs/${ref.p.name}`, section: "speed", value: round(median(x.single) / median(ref.single), 3),
          n: x.single.length, unit: "x", note: `single, CPU-time medians, interleaved; estimateCost predicts ${round(cost, 3)}×; ` +
            `batch of 8: ${round(median(x.batch) / median(ref.batch), 3)}×`,
        });
      }
    }
  } finally {
    for (const x of runs) { x.server.free(); x.client.wipe(); }
  }
}
