// Binary request bodies read as they stream in: the route's size limit is enforced on the Content-Length
// before anything is read and again on every chunk, and a route may check the body's first bytes (a
// serialized object's header) as soon as they arrive, so that an upload of the wrong kind, version or
// parameter set is refused before the rest of it is accepted. The check may also fix the body's exact
// length (a key set's size): a Content-Length or a body of another length is refused, and a body with a
// prefix check is allocated in one piece only once its check has passed.
import type { Readable } from "node:stream";
import { DeployError } from "./errors.js";

export interface PrefixCheck {
  /** How many leading bytes `check` needs. */
  readonly bytes: number;
  /** Throws (a DeployError) to refuse the body; may return the exact length the body must have. */
  readonly check: (prefix: Uint8Array) => number | void;
  /** The error for a body of another length than `check` returned (`got` describes it). */
  readonly wrongLength?: (expected: number, got: string) => Error;
}

export interface ReadBodyOptions {
  readonly limit: number;
  /** The Content-Length header, if any. */
  readonly contentLength?: string | undefined;
  readonly prefix?: PrefixCheck;
}

export const tooLarge = (limit: number): DeployError => new DeployError("TOO_LARGE", `the body is larger than this route accepts (at most ${limit} bytes)`, 413);

export function readBody(payload: Readable, { limit, contentLength, prefix }: ReadBodyOptions): Promise<Buffer> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
    return Promise.reject(new DeployError("BAD_REQUEST", `Content-Length ${JSON.stringify(contentLength)} is not a byte count`));
  }
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    // With a declared length the body lands in one allocation (after its prefix check, if any); chunked
    // bodies grow a list.
    let whole = declared === undefined || prefix !== undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let received = 0, checked = prefix === undefined, done = false, exact: number | undefined;
    const wrongLength = (expected: number, got: string): Error =>
      prefix?.wrongLength?.(expected, got) ?? new DeployError("BAD_REQUEST", `the body is ${got}, expected ${expected} bytes`);
    const finish = (e: unknown, body?: Buffer): void => {
      done = true;
      payload.removeListener("data", onData);
      payload.removeListener("end", onEnd);
      payload.removeListener("error", onError);
      payload.removeListener("close", onClose);
      if (e === undefined) resolve(body!);
      else reject(e);
    };
    const head = (): Uint8Array => whole !== undefined ? whole.subarray(0, received) : Buffer.concat(chunks, received);
    /** Runs the prefix check; false if it refused the body (then finished). */
    const runCheck = (bytes: Uint8Array): boolean => {
      checked = true;
      try {
        const n = prefix!.check(bytes);
        if (typeof n === "number") {
          exact = n;
          if (declared !== undefined && declared !== n) throw wrongLength(n, `${declared} bytes (its Content-Length)`);
          if (received > n) throw wrongLength(n, `longer (${received} bytes so far)`);
        }
      } catch (e) {
        finish(e);
        return false;
      }
      return true;
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > limit || (declared !== undefined && received + chunk.length > declared)) {
        finish(received + chunk.length > limit ? tooLarge(limit) : new DeployError("BAD_REQUEST", `the body is longer than its Content-Length (${declared} bytes)`));
        return;
      }
      if (exact !== undefined && received + chunk.length > exact) {
        finish(wrongLength(exact, `longer (${received + chunk.length} bytes so far)`));
        return;
      }
      if (whole !== undefined) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
      if (!checked && received >= prefix!.bytes) {
        const all = Buffer.concat(chunks, received);
        if (!runCheck(all.subarray(0, prefix!.bytes))) return;
        if (declared !== undefined) {
          // The check passed: now the body gets its one allocation.
          whole = Buffer.allocUnsafe(declared);
          all.copy(whole, 0);
          chunks.length = 0;
        } else {
          chunks.length = 0;
          chunks.push(all);
        }
      }
    };
    const onEnd = (): void => {
      if (declared !== undefined && received !== declared) {
        finish(new DeployError("BAD_REQUEST", `the body ended after ${received} of its ${declared} declared bytes`));
        return;
      }
      // Shorter than the prefix: the check sees what there is (and refuses a truncated header itself).
      if (!checked && !runCheck(head())) return;
      if (exact !== undefined && received !== exact) {
        finish(wrongLength(exact, `${received} bytes`));
        return;
      }
      finish(undefined, whole ?? Buffer.concat(chunks, received));
    };
    const onError = (e: Error): void => finish(new DeployError("BAD_REQUEST", `the body could not be read (${e.message})`));
    // A client that goes away mid-body: nothing will answer it, but the parse must end (and free the bytes).
    const onClose = (): void => { if (!done) finish(new DeployError("BAD_REQUEST", `the connection closed after ${received} bytes of the body`)); };
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onError);
    payload.on("close", onClose);
    payload.resume();
  });
}
