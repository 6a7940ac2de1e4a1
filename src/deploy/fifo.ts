// A first-in first-out queue of jobs, `concurrency` at a time: concurrent requests are served in arrival
// order, and each job gets the whole worker pool while it runs. A job whose client has gone is skipped.
import { DeployError } from "./errors.js";

interface Job<T> {
  readonly run: () => Promise<T>;
  readonly cancelled: () => boolean;
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

export class FifoQueue {
  readonly #jobs: Job<unknown>[] = [];
  #running = 0;

  constructor(readonly concurrency: number, readonly maxQueued: number) {}

  get queued(): number { return this.#jobs.length; }
  get running(): number { return this.#running; }

  push<T>(run: () => Promise<T>, cancelled: () => boolean = () => false): Promise<T> {
    if (this.#jobs.length >= this.maxQueued) return Promise.reject(new DeployError("BUSY", `${this.#jobs.length} requests are queued; try again later`, 503));
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ run, cancelled, resolve, reject } as Job<unknown>);
      this.#next();
    });
  }

  #next(): void {
    while (this.#running < this.concurrency && this.#jobs.length > 0) {
      const job = this.#jobs.shift()!;
      if (job.cancelled()) {
        job.reject(new DeployError("CANCELLED", "the client went away before its turn", 499));
        continue;
      }
      this.#running++;
      job.run().then(job.resolve, job.reject).finally(() => {
        this.#running--;
        this.#next();
      });
    }
  }
}
