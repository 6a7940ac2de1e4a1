// What the deployment layer throws: a code a program can switch on (also the HTTP error's `error` field)
// and the HTTP status it maps to. Messages say what was passed and what is expected, never a key or a
// ciphertext.
export class DeployError extends Error {
  override name = "DeployError";

  constructor(readonly code: string, message: string, readonly status = 400, options?: { cause?: unknown }) {
    super(message, options);
  }
}
