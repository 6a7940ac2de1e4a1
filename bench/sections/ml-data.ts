// The datasets of the ML benchmark: the CSV copies in test/fixtures (the repository's, so the figures are
// on the same data as the tests; a packed install has none and the section says so), and a deterministic
// train/test split and row sample (xorshift32 Fisher–Yates, the same rule as test/ml/helpers.ts).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** test/fixtures of the repository, from dist/bench/sections. */
export const FIXTURES_DIR = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));

export interface Dataset {
  readonly X: number[][];
  /** Numbers, or strings when the target column is not numeric (symptoms' disease names). */
  readonly y: (number | string)[];
}

/** A CSV with a header row whose last column is the target; undefined when the file is not there. */
export function loadDataset(file: string): Dataset | undefined {
  const path = FIXTURES_DIR + file;
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, "utf8").trim().split("\n").slice(1).map((l) => l.trim().split(","));
  const targets = lines.map((r) => r[r.length - 1]!);
  const numeric = targets.every((t) => t !== "" && Number.isFinite(Number(t)));
  return {
    X: lines.map((r) => r.slice(0, -1).map(Number)),
    y: numeric ? targets.map(Number) : targets.map((t) => t.trim()),
  };
}

function shuffled(n: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

export interface Split {
  readonly Xtrain: number[][];
  readonly ytrain: (number | string)[];
  readonly Xtest: number[][];
  readonly ytest: (number | string)[];
}

/** `testFraction` of the rows held out, after a seeded shuffle. */
export function split(d: Dataset, testFraction: number, seed: number): Split {
  const idx = shuffled(d.X.length, seed);
  const nTest = Math.round(d.X.length * testFraction);
  const test = idx.slice(0, nTest), train = idx.slice(nTest);
  return { Xtrain: train.map((i) => d.X[i]!), ytrain: train.map((i) => d.y[i]!), Xtest: test.map((i) => d.X[i]!), ytest: test.map((i) => d.y[i]!) };
}

/** The first `k` rows of a seeded permutation of `n` (all n, in order, when k ≥ n). */
export function sampleRows(n: number, k: number, seed: number): number[] {
  return k >= n ? Array.from({ length: n }, (_, i) => i) : shuffled(n, seed).slice(0, k).sort((a, b) => a - b);
}
