// Test data: the public datasets in test/fixtures (see its README), loaded as rows, and deterministic splits.
import { readFileSync } from "node:fs";

// Compiled to dist/test/ml/: the repository root is three levels up.
const FIXTURES = new URL("../../../test/fixtures/", import.meta.url);

export function fixturePath(name: string): URL {
  return new URL(name, FIXTURES);
}

export function readJson<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), "utf8")) as T;
}

/** A CSV with a header row whose last column is the target. */
export function loadCsv(name: string): { X: number[][]; y: number[]; header: string[] } {
  const lines = readFileSync(fixturePath(name), "utf8").trim().split("\n");
  const header = lines[0]!.split(",");
  const rows = lines.slice(1).map((l) => l.split(",").map(Number));
  return { X: rows.map((r) => r.slice(0, -1)), y: rows.map((r) => r[r.length - 1]!), header };
}

/** Deterministic shuffled split (xorshift32 Fisher–Yates): `testFraction` of the rows held out. */
export function trainTestSplit<T>(X: number[][], y: T[], testFraction: number, seed: number):
  { Xtrain: number[][]; ytrain: T[]; Xtest: number[][]; ytest: T[] } {
  const idx = X.map((_, i) => i);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const nTest = Math.round(X.length * testFraction);
  const test = idx.slice(0, nTest), train = idx.slice(nTest);
  return { Xtrain: train.map((i) => X[i]!), ytrain: train.map((i) => y[i]!), Xtest: test.map((i) => X[i]!), ytest: test.map((i) => y[i]!) };
}

/**
 * Rows of codes whose first-layer accumulators all lie more than 1/8 of a rounding step from a tie: there the
 * approximate round is exact (the compiler's guarantee away from ties), so FHE must equal the clear integers.
 */
export function tieFreeRows(layer: { inputs: number; outputs: number; Q: Int32Array; B: Int32Array; activation?: { lsbs: number } | readonly { lsbs: number }[] }, q: Int32Array, rows: number): boolean[] {
  const a = layer.activation!;
  return Array.from({ length: rows }, (_, i) => {
    for (let k = 0; k < layer.outputs; k++) {
      const step = 2 ** (Array.isArray(a) ? (a as readonly { lsbs: number }[])[k]!.lsbs : (a as { lsbs: number }).lsbs);
      let acc = layer.B[k]!;
      for (let j = 0; j < layer.inputs; j++) acc += layer.Q[j * layer.outputs + k]! * q[i * layer.inputs + j]!;
      const off = ((acc % step) + step) % step;
      if (Math.abs(off - step / 2) <= step / 8) return false;
    }
    return true;
  });
}
