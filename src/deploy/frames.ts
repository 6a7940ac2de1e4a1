// The body of a prediction request or response: a model's rows travel as several circuit runs (one per
// batch of `batchSize` rows), framed together so that one HTTP request carries them all.
//   "UMBF" | u32 version = 1 | u32 rows | u32 count | count × (u32 length | bytes)   (little-endian)
import { DeployError } from "./errors.js";

const MAGIC = 0x46424d55; // "UMBF"
const VERSION = 1;
/** More runs than any sane request holds; bounds the work one body can ask for before its lengths are read. */
export const MAX_FRAMES = 4096;

export interface Frames {
  /** Rows the frames stand for (models); 0 for a compiled circuit's single run. */
  readonly rows: number;
  readonly parts: readonly Uint8Array[];
}

export function encodeFrames({ rows, parts }: Frames): Uint8Array {
  if (parts.length > MAX_FRAMES) throw new DeployError("TOO_MANY_FRAMES", `${parts.length} runs in one request; at most ${MAX_FRAMES}`);
  const out = new Uint8Array(16 + parts.reduce((s, p) => s + 4 + p.length, 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true); v.setUint32(4, VERSION, true); v.setUint32(8, rows, true); v.setUint32(12, parts.length, true);
  let at = 16;
  for (const p of parts) {
    v.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

export function decodeFrames(bytes: Uint8Array, what = "request"): Frames {
  const bad = (m: string): never => {
    throw new DeployError("BAD_FRAMES", `${what}: ${m}`);
  };
  if (bytes.length < 16) bad(`${bytes.length} bytes; a framed body has a 16-byte header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) bad("not a framed umbra body (bad magic)");
  if (v.getUint32(4, true) !== VERSION) bad(`version ${v.getUint32(4, true)}, expected ${VERSION}`);
  const rows = v.getUint32(8, true), count = v.getUint32(12, true);
  if (count < 1 || count > MAX_FRAMES) bad(`${count} runs; expected 1 to ${MAX_FRAMES}`);
  const parts: Uint8Array[] = [];
  let at = 16;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) bad(`truncated before run ${i}`);
    const n = v.getUint32(at, true);
    if (at + 4 + n > bytes.length) bad(`run ${i} claims ${n} bytes, ${bytes.length - at - 4} remain (truncated)`);
    parts.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (at !== bytes.length) bad(`${bytes.length - at} trailing bytes`);
  return { rows, parts };
}
