// Fuzz of the server's key-set checks (key-sets.ts): a multi-parameter key bundle and one set's
// evaluation keys, mutated (bit flips, byte changes, truncations, extensions, edits of the header, the
// length fields, the JSON and the parts' own headers, with the checksums recomputed so that the later
// checks are reached). Each input goes through what POST /keys does — the head check on its first bytes,
// then the full decode — and must either decode to keys of the set the head named, or be refused with a
// DeployError BAD_KEYS or WRONG_PARAMETERS; anything else (another exception, a crash) fails.
// Deterministic; tiny insecure parameters keep every input a few hundred kB at most.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkKeysHeader, decodeKeys, DeployError, keySetFor, keysHeaderBytes, type KeySet } from "../../src/deploy/index.js";
import { generatePartitionedKeys, isPartitionedEvaluationKeys, serializePartitionedKeys } from "../../src/runtime/partitioned-keys.js";
import type { PartitionKeyswitch } from "../../src/runtime/partitions.js";
import { ClientKey, serialize, unsafeTestOnlyParameters } from "../../src/tfhe/index.js";
import { _recomputeChecksum } from "../../src/tfhe/serialization/checksum.js";

/** DANGER (insecure, tests only): two toy partitions of different rings. */
const A = unsafeTestOnlyParameters({
  name: "UNSAFE_A", messageBits: 1, carryBits: 0, lweDimension: 12, glweDimension: 1, polynomialSize: 256,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 20, pbsLevel: 1, ksBaseLog: 4, ksLevel: 2,
});
const B = unsafeTestOnlyParameters({
  name: "UNSAFE_B", messageBits: 2, carryBits: 0, lweDimension: 16, glweDimension: 1, polynomialSize: 512,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 20, pbsLevel: 1, ksBaseLog: 4, ksLevel: 2,
});
const KS: PartitionKeyswitch[] = [{ from: 0, to: 1, target: "small", baseLog: 4, levels: 3 }, { from: 1, to: 0, target: "big", baseLog: 8, levels: 3 }];
const ITERATIONS = 3000;

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  return { below: (n: number) => next() % n, float: () => next() / 2 ** 32 };
}

/** One mutant of `base` (a copy). `parts`: each part's [start, end) in the bundle, to edit their own headers. */
function mutate(r: ReturnType<typeof rng>, base: Uint8Array, headEnd: number, parts: readonly [number, number][]): Uint8Array {
  const b = Uint8Array.from(base), x = r.float();
  const reseal = (v: Uint8Array): Uint8Array => _recomputeChecksum(v);
  if (x < 0.15) { b[r.below(b.length)] ^= 1 << r.below(8); return b; }
  if (x < 0.3) return b.subarray(0, r.float() < 0.5 ? r.below(b.length) : r.below(Math.min(b.length, headEnd + 64)));
  if (x < 0.35) return reseal(b.subarray(0, 4 + r.below(b.length - 4)));
  if (x < 0.4) {
    const c = new Uint8Array(b.length + 1 + r.below(16));
    c.set(b);
    return r.float() < 0.5 ? reseal(c) : c;
  }
  if (x < 0.7) { // the header, the length fields, the type or the JSON, resealed
    const pos = r.below(headEnd);
    b[pos] = r.float() < 0.5 ? b[pos]! ^ (1 << r.below(8)) : r.below(256);
    return reseal(b);
  }
  if (parts.length > 0 && x < 0.9) { // a part's own header or shape fields, part and bundle resealed
    const [start, end] = parts[r.below(parts.length)]!;
    const pos = start + r.below(Math.min(48, end - start - 4));
    b[pos] = r.float() < 0.5 ? b[pos]! ^ (1 << r.below(8)) : r.below(256);
    _recomputeChecksum(b.subarray(start, end));
    return reseal(b);
  }
  // the payload (any word is a valid torus value: usually decodes), resealed
  b[headEnd + r.below(b.length - 4 - headEnd)] ^= 1 << r.below(8);
  return reseal(b);
}

/** What POST /keys does with a body: the head check, then the full decode; returns the set the keys decoded for. */
function upload(bytes: Uint8Array, sets: readonly KeySet[]): KeySet {
  const set = checkKeysHeader(bytes.subarray(0, keysHeaderBytes(sets)), sets);
  if (bytes.length !== set.totalBytes) throw new DeployError("BAD_KEYS", "length");
  const keys = decodeKeys(bytes, set);
  assert.equal(isPartitionedEvaluationKeys(keys), set.keyswitches !== undefined, "keys of the set the head named");
  return set;
}

test("key sets: mutated key bundles and evaluation keys either decode for the set their head names or get BAD_KEYS / WRONG_PARAMETERS", (t) => {
  const clients = [ClientKey.generate(A), ClientKey.generate(B)];
  const bundle = serializePartitionedKeys(generatePartitionedKeys(clients, KS));
  const single = serialize(ClientKey.generate(B).evaluationKeys());
  const multiSet = keySetFor([A, B], KS), oneSet = keySetFor([B]);
  const sets = [multiSet, oneSet];
  assert.equal(bundle.length, multiSet.totalBytes, "the layout's size is the bundle's");
  assert.equal(single.length, oneSet.totalBytes);
  assert.equal(upload(bundle, sets), multiSet);
  // A bound below what the keys expand to refuses them (BAD_KEYS naming the bound); without one, the set's
  // own size is the bound (keys larger than the decoders' 2 GiB default are taken for a model served here).
  for (const [bytes, set] of [[bundle, multiSet], [single, oneSet]] as const) {
    assert.throws(() => decodeKeys(bytes, set, 1024), (e: unknown) => e instanceof DeployError && e.code === "BAD_KEYS" && /above maxBytes 1024/.test(e.message));
  }
  assert.equal(upload(single, sets), oneSet);
  // Each part's [start, end): after the head, back to back, by the lengths the head lists.
  const headEnd = multiSet.prefix!.length;
  const view = new DataView(bundle.buffer, bundle.byteOffset);
  const count = view.getUint32(24, true), parts: [number, number][] = [];
  for (let i = 0, at = headEnd; i < count; i++) {
    const len = view.getUint32(28 + 8 * i, true);
    parts.push([at, at + len]);
    at += len;
  }
  const r = rng(0x5eed);
  const codes = new Map<string, number>();
  let decoded = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const [base, end, ps] = it % 4 === 3 ? [single, 16 + 36, []] : [bundle, headEnd, parts];
    const input = mutate(r, base, end, ps);
    try {
      upload(input, sets);
      decoded++;
    } catch (e) {
      if (!(e instanceof DeployError) || (e.code !== "BAD_KEYS" && e.code !== "WRONG_PARAMETERS") || e.status !== 400) {
        assert.fail(`#${it}: expected a DeployError BAD_KEYS or WRONG_PARAMETERS, got ${e instanceof Error ? e.stack : String(e)}`);
      }
      assert.ok(e.message.length < 600, `#${it}: message too long: ${e.message.slice(0, 100)}…`);
      const key = `${e.code} ${/^evaluation keys: ([A-Z_]+):/.exec(e.message)?.[1] ?? ""}`.trim();
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
  }
  t.diagnostic(`${ITERATIONS} inputs, ${decoded} decoded; ${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ")}`);
  assert.ok(codes.size >= 5, "the mutations reach several checks");
  assert.ok(codes.has("WRONG_PARAMETERS"), "a mutated fingerprint is a wrong parameter set");
  // Every truncation of the bundle is refused (the head check, or its exact length).
  for (let cut = 0; cut < bundle.length; cut += cut < headEnd + 64 ? 1 : 997) {
    assert.throws(() => upload(bundle.subarray(0, cut), sets), (e: unknown) => e instanceof DeployError && e.code === "BAD_KEYS", `cut at ${cut}`);
  }
});
