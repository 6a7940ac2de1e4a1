// Encrypted × encrypted products (Tracer.mul / matmul lower them to lookups: x·y = ⌊(x+y)²/4⌋ − ⌊(x−y)²/4⌋)
// at real parameters: exact in the clear on every pair, FHE = simulate = clear on samples, PBS counts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { type Circuit, compile, type Sample, toNested } from "../../src/compiler/index.js";

const circuits: Circuit[] = [];
after(() => { for (const c of circuits) c.dispose(); });

function fheEqualsClear(c: Circuit, samples: readonly Sample[]): void {
  for (const args of samples) {
    const s = args;
    const want = c.runClear(...args).map(toNested);
    assert.deepEqual(c.encryptRunDecrypt(...args).map(toNested), want, `FHE ${JSON.stringify(s)}`);
    assert.deepEqual(c.simulateWith({ seed: 11 }, ...args).map(toNested), want, `simulate ${JSON.stringify(s)}`);
  }
}

test("x·y of two encrypted signed values: exact on every pair, 2 PBS per element; x·x is 1 PBS", () => {
  const pairs: number[][] = [];
  for (let x = -2; x <= 3; x++) for (let y = -3; y <= 2; y++) pairs.push([x, y]);
  const c = compile((x, y) => [x.mul(y), x.mul(x)], { x: "encrypted", y: "encrypted" }, pairs);
  circuits.push(c);
  for (const [x, y] of pairs) assert.deepEqual(c.runClear(x!, y!).map(toNested), [x! * y! + 0, x! * x!], `${x}·${y}`);
  assert.equal(c.encoding.pbsCount, 3);
  fheEqualsClear(c, [[3, -3], [-2, 2], [0, -1], [3, 2], [-1, -3]]);
});

test("dot and matmul of encrypted operands; select by an encrypted condition", () => {
  const set = [[[0, 0, 0], [0, 0, 0]], [[3, 3, 3], [3, 3, 3]], [[3, 0, 2], [1, 3, 0]], [[1, 2, 3], [3, 2, 1]]];
  const d = compile((a, b) => a.dot(b), { a: "encrypted", b: "encrypted" }, set);
  circuits.push(d);
  assert.equal(d.encoding.pbsCount, 6);
  fheEqualsClear(d, [[[1, 2, 3], [3, 0, 1]], [[3, 3, 0], [2, 1, 3]]]);
  assert.deepEqual(toNested(d.runClear([1, 2, 3], [3, 0, 1])[0]!), 6);

  const m = compile((a, b) => a.matmul(b), { a: "encrypted", b: "encrypted" },
    [[[[0, 0], [0, 0]], [[0, 0], [0, 0]]], [[[2, 2], [2, 2]], [[2, 2], [2, 2]]], [[[1, 2], [0, 1]], [[2, 0], [1, 1]]]]);
  circuits.push(m);
  assert.deepEqual(m.runClear([[1, 2], [0, 1]], [[2, 0], [1, 1]]).map(toNested), [[[4, 2], [1, 1]]]);
  fheEqualsClear(m, [[[[1, 2], [0, 1]], [[2, 0], [1, 1]]]]);

  // max(x, y) written as a select: c·x + (1 − c)·y with c = x > y.
  const pairs: number[][] = [];
  for (let x = 0; x <= 3; x++) for (let y = 0; y <= 3; y++) pairs.push([x, y]);
  const sel = compile((x, y) => { const c = x.gt(y); return c.mul(x).add(c.neg().add(1).mul(y)); }, { x: "encrypted", y: "encrypted" }, pairs);
  circuits.push(sel);
  for (const [x, y] of pairs) assert.equal(toNested(sel.runClear(x!, y!)[0]!), Math.max(x!, y!));
  fheEqualsClear(sel, [[3, 1], [0, 2], [2, 2]]);
});
