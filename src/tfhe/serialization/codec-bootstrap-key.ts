// Bootstrapping keys (standard domain, as generated), plain and seeded, in the layout of
// codec-seedable-key.ts with the shape u32 n | u32 k | u32 N | u32 base log | u32 levels
// (each must equal the parameters' n, k, N, pbsBaseLog, pbsLevel):
//   BootstrapKey:        shape (20) | u32 flags | [seed (32) if flags = 1] | u64 × G·(k+1)²·l·N
//   SeededBootstrapKey:  shape (20) | seed (32) | u64 × G·(k+1)·l·N
// with G GGSWs: n, or n/d·(2^d − 1) for a multi-bit set (its grouping factor d comes from the parameters,
// which the header's fingerprint pins; the classic layout is unchanged).
import { BootstrapKey, bootstrapKeyShape, ggswCount, ggswWords, SeededBootstrapKey, type BootstrapKeyShape } from "../bootstrap-key.js";
import { seedableKeyCodec } from "./codec-seedable-key.js";
import { SerializedKind } from "./header.js";

export const bootstrapKeyCodec = seedableKeyCodec({
  what: "bootstrap key",
  kind: SerializedKind.BootstrapKey,
  seededKind: SerializedKind.SeededBootstrapKey,
  fields: [
    { key: "lweDimension", label: "n", name: "LWE dimension" },
    { key: "glweDimension", label: "k", name: "GLWE dimension" },
    { key: "polynomialSize", label: "N", name: "polynomial size" },
    { key: "baseLog", label: "base log", name: "base log" },
    { key: "levels", label: "levels", name: "levels" },
  ],
  expectedShape: bootstrapKeyShape,
  // Plain: n GGSW of (k+1)·l rows of k+1 polynomials. Seeded: one body polynomial per GGSW row.
  words: (s: BootstrapKeyShape) => ggswCount(s) * ggswWords(s),
  seededWords: (s: BootstrapKeyShape) => ggswCount(s) * (s.glweDimension + 1) * s.levels * s.polynomialSize,
  Plain: BootstrapKey,
  Seeded: SeededBootstrapKey,
});
