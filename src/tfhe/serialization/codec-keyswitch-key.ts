// Key-switching keys (k·N → n), plain and seeded, in the layout of codec-seedable-key.ts with the shape
// u32 input dim | u32 output dim | u32 base log | u32 levels (each must equal the parameters' k·N, n,
// ksBaseLog, ksLevel):
//   KeyswitchKey:        shape (16) | u32 flags | [seed (32) if flags = 1] | u64 × k·N·l_ks·(n+1)
//   SeededKeyswitchKey:  shape (16) | seed (32) | u64 × k·N·l_ks
import { KeyswitchKey, SeededKeyswitchKey, type KeyswitchKeyShape } from "../keyswitch-key.js";
import type { TfheParameters } from "../parameters.js";
import { bigDimension } from "./codec.js";
import { seedableKeyCodec } from "./codec-seedable-key.js";
import { SerializedKind } from "./header.js";

function keyswitchKeyShape(p: TfheParameters): KeyswitchKeyShape {
  return { inputDimension: bigDimension(p), outputDimension: p.lweDimension, baseLog: p.ksBaseLog, levels: p.ksLevel };
}

function codecWith(expectedShape: (p: TfheParameters) => KeyswitchKeyShape) {
  return seedableKeyCodec({
    what: "keyswitch key",
    kind: SerializedKind.KeyswitchKey,
    seededKind: SerializedKind.SeededKeyswitchKey,
    fields: [
      { key: "inputDimension", label: "input dimension", name: "input dimension" },
      { key: "outputDimension", label: "output dimension", name: "output dimension" },
      { key: "baseLog", label: "base log", name: "base log" },
      { key: "levels", label: "levels", name: "levels" },
    ],
    expectedShape,
    // Plain: k·N·l_ks rows of n+1 words. Seeded: one body word per row.
    words: (s: KeyswitchKeyShape) => s.inputDimension * s.levels * (s.outputDimension + 1),
    seededWords: (s: KeyswitchKeyShape) => s.inputDimension * s.levels,
    Plain: KeyswitchKey,
    Seeded: SeededKeyswitchKey,
  });
}

export const keyswitchKeyCodec = codecWith(keyswitchKeyShape);

/**
 * The same layout for a key between two parameter sets' keys (a multi-parameter circuit's: one set's big
 * key to another's small or big key). Its shape is not implied by one parameter set, so the caller states
 * the shape it expects; the header carries the fingerprint of the set whose key it encrypts under.
 */
export function keyswitchKeyCodecOfShape(shape: KeyswitchKeyShape) {
  return codecWith(() => shape);
}
