// Processes for the deployment tests: `umbra serve` and `umbra predict` as a user runs them (the built CLI),
// and client processes (client-process.ts) that talk to the server over loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
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

/**
 * A body the server should refuse from its first bytes: sends its Content-Length and only its first
 * `first` bytes (node:http, which reads an answer that comes before the body is complete; fetch may
 * instead fail on the closed connection), and resolves with the answer, or rejects if none comes.
 */
export function earlyAnswer(url: string, path: string, body: Uint8Array, headers: Record<string, string> = {}, first = 64 * 1024, ms = 20_000): Promise<{ status: number; error: string; message: string }> {
  const u = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: u.hostname, port: u.port, path: u.pathname, method: "POST",
      headers: { "content-type": "application/octet-stream", "content-length": body.length, ...headers },
    });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`${path}: no answer within ${ms} ms of the first ${first} bytes`)); }, ms);
    req.once("response", (res) => {
      let text = "";
      res.on("data", (d: Buffer) => { text += d.toString(); });
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        const b = JSON.parse(text) as { error: string; message: string };
        resolve({ status: res.statusCode!, error: b.error, message: b.message });
      });
    });
    req.on("error", (e) => { clearTimeout(timer); reject(e); });
    req.write(body.subarray(0, Math.min(first, body.length)));
    if (first >= body.length) req.end();
  });
}
