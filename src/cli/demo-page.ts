// The end of `umbra demo`: the demo page. The demos' bundles (the diagnosis model, the image filters) are
// written to a directory, and `umbra serve` (a separate process) serves them with the page and the browser
// client; this process says where, then waits for it until Ctrl-C. The bundles come out the same on every
// start, and the uploaded evaluation keys stay in the directory's .keys, so a browser that comes back
// after a restart reuses its keys on both sides.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeDemoBundles } from "../demos/bundles.js";

export interface DemoPageOptions {
  readonly port: number;
  readonly host: string;
  /** Where the bundles and the uploaded keys go (default: a directory of this user's under the temp dir). */
  readonly dir?: string;
  readonly log: (line: string) => void;
}

/** The page's directory (dist/demo-web, built by scripts/build-demo-web.mjs). */
export const DEMO_WEB_DIR = fileURLToPath(new URL("../../demo-web/", import.meta.url));

/** `umbra-demo-<user>` in the temp directory (the uid where the user has no name, as in some containers). */
export function defaultDemoDir(): string {
  let user: string;
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_-]/g, "_");
  } catch {
    user = String(process.getuid?.() ?? "user");
  }
  return join(tmpdir(), `umbra-demo-${user}`);
}

/** Serves the demo page until the server process ends (Ctrl-C ends both); resolves with its exit code. */
export async function serveDemoPage({ port, host, dir = defaultDemoDir(), log }: DemoPageOptions): Promise<number> {
  if (!existsSync(join(DEMO_WEB_DIR, "index.html"))) throw new Error(`the demo page is not built (${DEMO_WEB_DIR}): run npm run build`);
  log(`demo page: preparing the models in ${dir}`);
  await writeDemoBundles(dir, { log });
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const child = spawn(process.execPath, [main, "serve", dir, "--port", String(port), "--host", host, "--web", DEMO_WEB_DIR], { stdio: ["ignore", "pipe", "inherit"] });
  // Ctrl-C reaches both processes (one process group); SIGTERM to this one is passed on.
  const stop = (): void => { child.kill("SIGTERM"); };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  let said = false;
  child.stdout.on("data", (d: Buffer) => {
    const m = /at (http:\/\/\S+)/.exec(d.toString());
    if (m === null || said) return;
    said = true;
    log(`demo page: open ${m[1]}/ in a browser — encrypted diagnosis and image filters (umbra serve, process ${child.pid}). Ctrl-C stops it.`);
  });
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal !== null ? 0 : code ?? 1);
    });
  });
}
