// Processes for the deployment tests: `umbra serve` and `umbra predict` as a user runs them (the built CLI),
// and client processes (client-process.ts) that talk to the server over loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
export const CLIENT_PROCESS = fileURLToPath(new URL("./client-process.js", import.meta.url));

export interface Served {
  readonly url: string;
  readonly proc: ChildProcess;
  /** What the server wrote on stderr so far (its logs). */
  stderr(): string;
  stop(): Promise<void>;
}

/** `umbra serve <dir> --port 0 …`; resolves with the URL it prints. */
export async function serve(dir: string, args: readonly string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, "serve", dir, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  proc.stderr!.on("data", (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`umbra serve exited (${code}): ${err}`)));
  });
  return {
    url, proc, stderr: () => err,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs a node script to its end: stdout, stderr, exit code. */
export async function run(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stdout = "", stderr = "";
  proc.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
  proc.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
  const [code] = (await once(proc, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** The rows client `c` sends in request `r` (client-process.ts and the test agree on them). */
export function indicesOf(c: number, r: number, perRequest: number, n: number): number[] {
  return Array.from({ length: perRequest }, (_, k) => (c * 37 + r * 11 + k * 5) % n);
}
