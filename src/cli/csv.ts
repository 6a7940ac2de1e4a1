// Numeric CSV for the CLI: an optional header line (any non-numeric field makes the first line a header),
// then rows of numbers, all of one width. Empty fields read as NaN (XGBoost's missing value).
import { readFileSync } from "node:fs";

export interface Csv {
  readonly header: string[] | undefined;
  readonly rows: number[][];
}

export function readCsv(path: string): Csv {
  const lines = readFileSync(path, "utf8").split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new Error(`${path}: empty`);
  const first = lines[0]!.split(",");
  const header = first.some((f) => f.trim() !== "" && !Number.isFinite(Number(f))) ? first.map((f) => f.trim()) : undefined;
  const body = header === undefined ? lines : lines.slice(1);
  const width = header?.length ?? first.length;
  const rows = body.map((l, i) => {
    const fields = l.split(",");
    if (fields.length !== width) throw new Error(`${path}: line ${i + (header ? 2 : 1)} has ${fields.length} fields, expected ${width}`);
    return fields.map((f, j) => {
      if (f.trim() === "") return NaN;
      const v = Number(f);
      if (!Number.isFinite(v)) throw new Error(`${path}: line ${i + (header ? 2 : 1)} field ${j + 1} is ${JSON.stringify(f)}, not a number`);
      return v;
    });
  });
  if (rows.length === 0) throw new Error(`${path}: no rows`);
  return { header, rows };
}

const field = (v: unknown): string => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csvText(header: readonly string[] | undefined, rows: readonly (readonly unknown[])[]): string {
  return [...(header === undefined ? [] : [header.map(field).join(",")]), ...rows.map((r) => r.map(field).join(","))].join("\n") + "\n";
}
