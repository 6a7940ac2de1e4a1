// umbra ÷ node-tfhe for the pairs measured in the same run (> 1: umbra slower or larger).
import { PARAM_MESSAGE_4, PARAM_MESSAGE_8 } from "../src/tfhe/index.js";
import { round } from "./format.js";
import { valueOf, type BenchResult } from "./harness.js";

export interface Comparison {
  readonly name: string;
  /** umbra's result names (summed), given the main set's name. */
  readonly umbra: (main: string) => string | string[];
  /** node-tfhe's result name. */
  readonly ref: string;
  readonly what: string;
}

const P8 = PARAM_MESSAGE_8.name;

export const COMPARISONS: readonly Comparison[] = [
  { name: "keygen/client-key", umbra: (m) => `keygen/secret-key/${m}`, ref: "node-tfhe/shortint/keygen/client-key", what: "client key generation (same parameters)" },
  { name: "keygen/server-key", umbra: (m) => [`keygen/bsk/${m}`, `keygen/ksk/${m}`], ref: "node-tfhe/shortint/keygen/compressed-server-key", what: "server key generation, BSK + KSK (same parameters)" },
  { name: "keygen/server-key-high-level", umbra: (m) => [`keygen/bsk/${m}`, `keygen/ksk/${m}`], ref: "node-tfhe/keygen/compressed-server-key", what: "server key generation vs node-tfhe's high-level compressed server key (default config)" },
  { name: "encrypt/1-block", umbra: (m) => `encrypt/1/${m}`, ref: "node-tfhe/shortint/encrypt", what: "encrypt one 4-bit value (same parameters)" },
  { name: "encrypt/8-bit", umbra: () => `encrypt/1/${P8}`, ref: "node-tfhe/encrypt/FheUint8", what: `encrypt an 8-bit integer with the client key: node-tfhe FheUint8 (4 blocks of 2+2 bits) vs umbra one ciphertext at ${P8}` },
  { name: "encrypt-seeded/1-block", umbra: (m) => `encrypt-seeded/1/${m}`, ref: "node-tfhe/shortint/encrypt-compressed", what: "seeded (compressed) encryption of one 4-bit value (same parameters)" },
  { name: "encrypt-public-key/8-bit", umbra: (m) => `encrypt-public-key/1/${m}`, ref: "node-tfhe/encrypt-public-key/FheUint8", what: "public-key encryption: node-tfhe compact list of one u8 vs umbra compact list of one 4-bit value" },
  { name: "decrypt/1-block", umbra: (m) => `decrypt/1/${m}`, ref: "node-tfhe/shortint/decrypt", what: "decrypt one 4-bit value (same parameters)" },
  { name: "decrypt/8-bit", umbra: () => `decrypt/1/${P8}`, ref: "node-tfhe/decrypt/FheUint8", what: `decrypt an 8-bit integer: node-tfhe FheUint8 vs umbra one ciphertext at ${P8}` },
  { name: "size/client-key", umbra: (m) => `size/secret-key/${m}`, ref: "node-tfhe/shortint/size/client-key", what: "serialized client key (same parameters)" },
  { name: "size/server-key-seeded", umbra: (m) => `size/evaluation-keys/${m}`, ref: "node-tfhe/shortint/size/compressed-server-key", what: "compressed server key: umbra evaluation keys as uploaded, seeded BSK + KSK (same parameters)" },
  { name: "size/ciphertext", umbra: (m) => `size/ciphertext/${m}`, ref: "node-tfhe/shortint/size/ciphertext", what: "one ciphertext (same parameters)" },
  { name: "size/ciphertext-seeded", umbra: (m) => `size/ciphertext-seeded/${m}`, ref: "node-tfhe/shortint/size/ciphertext-compressed", what: "one seeded ciphertext (same parameters)" },
  { name: "size/public-key", umbra: (m) => `size/public-key/${m}`, ref: "node-tfhe/size/compact-public-key", what: "compact public key" },
];

/** umbra's result names of a comparison. */
export function umbraNames(c: Comparison, main: string): string[] {
  return ([] as string[]).concat(c.umbra(main));
}

/** One `compare/<name>` result per comparison whose figures all exist in `results`. */
export function compareResults(results: readonly BenchResult[], main: string): BenchResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  const out: BenchResult[] = [];
  for (const c of COMPARISONS) {
    const names = umbraNames(c, main);
    const us = names.map((n) => valueOf(byName.get(n)));
    const ref = valueOf(byName.get(c.ref));
    if (ref === undefined || ref === 0 || us.some((v) => v === undefined)) continue;
    const u = us.reduce((a, b) => a! + b!, 0)!;
    const unit = byName.get(c.ref)!.unit;
    const params = byName.get(names[0]!)!.params ?? main;
    const caveat = main === PARAM_MESSAGE_4.name ? "" : ` [test run: umbra at ${main}, not the same parameters]`;
    out.push({
      name: `compare/${c.name}`, section: "compare", value: round(u / ref, 3), params,
      note: `${c.what}${caveat}: umbra ${round(u)} ${unit} (${names.join(" + ")}) ÷ node-tfhe ${round(ref)} ${unit} (${c.ref})`,
      n: 1, unit: "x",
    });
  }
  return out;
}
