// Key cache for tests: generating keys is the slow part, so each test process makes one set per parameters.
import { ClientKey, ServerKey, type TfheParameters } from "../../src/tfhe/index.js";

const cache = new Map<string, { client: ClientKey; server: ServerKey }>();

export function keysFor(params: TfheParameters): { client: ClientKey; server: ServerKey } {
  let e = cache.get(params.name);
  if (!e) {
    const client = ClientKey.generate(params);
    e = { client, server: new ServerKey(client.evaluationKeys()) };
    cache.set(params.name, e);
  }
  return e;
}

/** Deterministic small PRNG for test inputs (not for crypto). */
export function testRng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}
