// The PBS correctness suite run for each parameter set: every input (or a random sample) through
// identity, negation, a random table and a non-linear table; a many-LUT; and a PBS after a linear
// combination at the set's maximum squared norm (inputs being PBS outputs, as in a circuit).
import assert from "node:assert/strict";
import { add, mulScalar, type TfheParameters } from "../../src/tfhe/index.js";
import { keysFor, testRng } from "./keys.js";

export interface PbsSuiteOptions {
  /** Test this many random inputs instead of all of them. */
  readonly sample?: number;
  /** Σw² of the linear combination before the last PBS. */
  readonly maxNorm2: number;
}

export function pbsSuite(params: TfheParameters, { sample, maxNorm2 }: PbsSuiteOptions): void {
  const { client, server } = keysFor(params);
  const bits = params.messageBits + params.carryBits;
  const p = 2 ** bits;
  const rng = testRng(0x5eed + bits);
  const inputs = sample === undefined
    ? Array.from({ length: p }, (_, i) => i)
    : Array.from({ length: sample }, () => Math.floor(rng() * p));
  const table = Array.from({ length: p }, () => Math.floor(rng() * p));
  const functions: [string, (x: number) => number][] = [
    ["identity", (x) => x],
    ["negation", (x) => (p - x) % p],
    ["random table", (x) => table[x]!],
    ["non-linear ⌊x²/p⌋ + 1", (x) => (Math.floor((x * x) / p) + 1) % p],
  ];
  const ct = client.encrypt(inputs);
  for (const [name, f] of functions) {
    const got = Array.from(client.decrypt(server.apply(ct, f)));
    assert.deepEqual(got, inputs.map(f), `${params.name}: ${name}`);
  }

  // Many-LUT: two functions of (bits−1)-bit inputs from one blind rotation.
  if (bits >= 2) {
    const inBits = bits - 1;
    const small = inputs.map((x) => x % 2 ** inBits);
    const fs = [(x: number) => (3 * x + 1) % p, (x: number) => (x * x) % p];
    const outs = server.bootstrapMany(client.encrypt(small), server.manyLookupTable(fs, inBits));
    assert.equal(outs.length, 2);
    outs.forEach((o, t) => assert.deepEqual(Array.from(client.decrypt(o)), small.map(fs[t]!), `${params.name}: many-LUT f${t}`));
  }

  // PBS after Σw² = maxNorm2 on PBS outputs: w·PBS(0) + PBS(m), w = ⌊√(maxNorm2 − 1)⌋.
  const w = Math.floor(Math.sqrt(Math.max(0, maxNorm2 - 1)));
  const some = inputs.slice(0, Math.min(inputs.length, 8));
  const zeros = server.apply(client.encrypt(some.map(() => 0)), (x) => x);
  const ms = server.apply(client.encrypt(some), (x) => x);
  const combo = add(mulScalar(zeros, w), ms);
  const f = (x: number) => (x + 1) % p;
  assert.deepEqual(Array.from(client.decrypt(server.apply(combo, f))), some.map(f), `${params.name}: PBS after Σw² = ${w * w + 1}`);
}
