// Progress bars for long CLI work, on stderr, only when stderr is a terminal and neither --json nor
// --quiet is given (a script reading our output never sees one). Redrawn at most ten times a second.
const WIDTH = 24;

export interface ProgressOptions {
  readonly json?: boolean;
  readonly quiet?: boolean;
  /** The stream drawn on (default process.stderr); tests pass their own. */
  readonly stream?: NodeJS.WriteStream;
}

export function progressEnabled({ json, quiet, stream = process.stderr }: ProgressOptions): boolean {
  return stream.isTTY === true && json !== true && quiet !== true;
}

const fmt = (n: number, unit: "bytes" | "rows"): string => unit === "bytes" ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n}`;

export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #t0 = performance.now();
  #last = 0;
  #done = 0;

  constructor(readonly label: string, readonly total: number, readonly unit: "bytes" | "rows", options: ProgressOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = progressEnabled(options);
    this.#draw(true);
  }

  /** `done` units of `total` so far. */
  update(done: number): void {
    this.#done = Math.min(done, this.total);
    this.#draw(false);
  }

  /** Ends the bar (the line is cleared; the caller prints its own summary). */
  finish(): void {
    this.#done = this.total;
    this.#draw(true);
    if (this.#enabled) this.#stream.write("\r\x1b[K");
  }

  #draw(force: boolean): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const f = this.total === 0 ? 1 : this.#done / this.total;
    const filled = Math.round(f * WIDTH);
    const s = ((now - this.#t0) / 1000).toFixed(1);
    this.#stream.write(`\r\x1b[K${this.label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${Math.floor(f * 100)}% ${fmt(this.#done, this.unit)}/${fmt(this.total, this.unit)} ${s} s`);
  }
}

/**
 * Synchronous work that cannot report its own progress (key generation): a status line while it runs,
 * cleared after; returns the work's result and its milliseconds.
 */
export function withStatus<T>(label: string, work: () => T, options: ProgressOptions = {}): { value: T; ms: number } {
  const stream = options.stream ?? process.stderr, on = progressEnabled(options);
  if (on) stream.write(`\r\x1b[K${label}…`);
  const t = performance.now();
  try {
    return { value: work(), ms: performance.now() - t };
  } finally {
    if (on) stream.write("\r\x1b[K");
  }
}

const PHASES: Readonly<Record<string, string>> = { spec: "fetching the model's spec", keygen: "keygen", upload: "uploading evaluation keys", encrypt: "encrypting", server: "waiting for the server", decrypt: "decrypting" };

/** A status line naming the phase a client is in (events of RemoteModel's onProgress), cleared by done(). */
export class PhaseStatus {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #t0 = performance.now();

  constructor(options: ProgressOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = progressEnabled(options);
  }

  event(phase: string, state: string): void {
    if (!this.#enabled || state !== "start") return;
    this.#stream.write(`\r\x1b[K${PHASES[phase] ?? phase}… ${((performance.now() - this.#t0) / 1000).toFixed(1)} s`);
  }

  done(): void {
    if (this.#enabled) this.#stream.write("\r\x1b[K");
  }
}
