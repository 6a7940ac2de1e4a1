// Redis for the scale-out tests: the server UMBRA_REDIS_URL names (CI starts one). Without it a test
// skips, saying why, unless UMBRA_REQUIRE_SERVICES=1 (CI), where it fails. Each test file works under a
// prefix of its own and deletes its keys at the end.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { CLI } from "./helpers.js";

export const REDIS_URL = process.env.UMBRA_REDIS_URL;
const REQUIRED = process.env.UMBRA_REQUIRE_SERVICES === "1";

/** The Redis URL, or undefined after skipping `t` (failing it when services are required). */
export function redisOrSkip(t: TestContext): string | undefined {
  if (REDIS_URL !== undefined && REDIS_URL !== "") return REDIS_URL;
  if (REQUIRED) assert.fail("UMBRA_REQUIRE_SERVICES=1 but UMBRA_REDIS_URL is not set: the Redis tests cannot run");
  t.skip("no Redis: set UMBRA_REDIS_URL (e.g. redis://127.0.0.1:6379) to run the scale-out tests");
  return undefined;
}

export const testPrefix = (name: string): string => `umbra-test-${name}-${process.pid}-${randomBytes(4).toString("hex")}`;

export interface Spawned {
  readonly proc: ChildProcess;
  /** Its stderr so far (a worker's JSON log lines). */
  stderr(): string;
  /** Resolves when a stderr line matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** `umbra worker --redis url …`, resolved once it says it is taking jobs. */
export async function startWorker(url: string, args: readonly string[]): Promise<Spawned> {
  const proc = spawn(process.execPath, [CLI, "worker", "--redis", url, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "", out = "";
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) {
      const line = err.split("\n").find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/taking predictions/.test(out)) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`umbra worker exited (${code}): ${err}`)));
  });
  return {
    proc, stderr: () => err,
    waitFor(re, timeoutMs = 60_000) {
      const line = err.split("\n").find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no worker log line matched ${re} in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
