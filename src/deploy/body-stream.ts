// Binary request bodies read as they stream in: the route's size limit is enforced on the Content-Length
// before anything is read and again on every chunk, and a route may check the body's first bytes (a
// serialized object's header) as soon as they arrive, so that an upload of the wrong kind, version or
// parameter set is refused before the rest of it is accepted.
import type { Readable } from "node:stream";
import { DeployError } from "./errors.js";

export interface PrefixCheck {
  /** How many leading bytes `check` needs. */
  readonly bytes: number;
  /** Throws (a DeployError) to refuse the body. */
  readonly check: (prefix: Uint8Array) => void;
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
    // With a declared length the body lands in one allocation; chunked bodies grow a list.
    const whole = declared === undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let received = 0, checked = prefix === undefined, done = false;
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
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > limit || (declared !== undefined && received + chunk.length > declared)) {
        finish(received + chunk.length > limit ? tooLarge(limit) : new DeployError("BAD_REQUEST", `the body is longer than its Content-Length (${declared} bytes)`));
        return;
      }
      if (whole !== undefined) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
      if (!checked && received >= prefix!.bytes) {
        checked = true;
        try {
          prefix!.check(head().subarray(0, prefix!.bytes));
        } catch (e) {
          finish(e);
        }
      }
    };
    const onEnd = (): void => {
      if (declared !== undefined && received !== declared) {
        finish(new DeployError("BAD_REQUEST", `the body ended after ${received} of its ${declared} declared bytes`));
        return;
      }
      if (!checked) {
        // Shorter than the prefix: the check sees what there is (and refuses a truncated header itself).
        try {
          prefix!.check(head());
        } catch (e) {
          finish(e);
          return;
        }
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
