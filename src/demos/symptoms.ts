// The symptom/disease data of the health demo, decoded from its packed form (data/symptoms.ts): 0/1 rows
// of 132 symptoms, the disease of each row, and readable names for the page. No Node built-ins: the
// browser app imports the names from here too.
import { COLUMNS, FILES, LABELS, PATTERNS } from "./data/symptoms.js";

export type SymptomsSplit = "train" | "test";

export interface SymptomRows {
  /** One row per example: 0/1 per symptom, in SYMPTOMS order. */
  readonly X: number[][];
  /** The disease of each row (readable name, see DISEASES). */
  readonly y: string[];
}

/** The symptom columns as the files name them. */
export const SYMPTOM_COLUMNS: readonly string[] = COLUMNS.slice(0, -1);

/** Readable symptom names: underscores as spaces, stray spaces dropped; a repeated name gets "(2)". */
export const SYMPTOMS: readonly string[] = (() => {
  const seen = new Map<string, number>();
  return SYMPTOM_COLUMNS.map((c) => {
    const name = c.replace(/_/g, " ").replace(/\s+/g, " ").trim();
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} (${n})`;
  });
})();

/** Readable disease names (the files' labels without trailing spaces). */
export const DISEASES: readonly string[] = LABELS.map((l) => l.trim());

/** The rows of one file, in file order. */
export function symptomRows(split: SymptomsSplit): SymptomRows {
  const rows = FILES[split].rows;
  const X: number[][] = [], y: string[] = [];
  for (const p of rows) {
    const [label, ...on] = PATTERNS[p]!;
    const x = new Array<number>(SYMPTOM_COLUMNS.length).fill(0);
    for (const j of on) x[j] = 1;
    X.push(x);
    y.push(DISEASES[label!]!);
  }
  return { X, y };
}

/** The distinct rows of the training file once each (the file repeats each about 16 times). */
export function distinctTrainingRows(): SymptomRows {
  const seen = new Set<number>(), X: number[][] = [], y: string[] = [];
  const all = symptomRows("train");
  FILES.train.rows.forEach((p, i) => {
    if (seen.has(p)) return;
    seen.add(p);
    X.push(all.X[i]!);
    y.push(all.y[i]!);
  });
  return { X, y };
}

/** The file's exact text, rebuilt (what data/symptoms.ts was packed from; its SHA-256 is FILES[split].sha256). */
export function symptomsCsv(split: SymptomsSplit): string {
  const lines = [COLUMNS.join(",")];
  for (const p of FILES[split].rows) {
    const [label, ...on] = PATTERNS[p]!;
    const cells = new Array<string>(SYMPTOM_COLUMNS.length).fill("0");
    for (const j of on) cells[j] = "1";
    cells.push(LABELS[label!]!);
    lines.push(cells.join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

export interface Diagnosis {
  readonly disease: string;
  /** The model's probability of this disease (softmax of the decrypted scores). */
  readonly probability: number;
}

/** The `k` most probable diseases of one row, most probable first (ties: the classes' order). */
export function topDiagnoses(probabilities: readonly number[], classes: readonly string[], k = 5): Diagnosis[] {
  if (probabilities.length !== classes.length) throw new RangeError(`expected ${classes.length} probabilities (one per disease), got ${probabilities.length}`);
  return classes.map((disease, i) => ({ disease, probability: probabilities[i]!, i }))
    .sort((a, b) => b.probability - a.probability || a.i - b.i)
    .slice(0, k)
    .map(({ disease, probability }) => ({ disease, probability }));
}
