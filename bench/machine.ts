// The machine a run happened on (CPU, memory, Node, V8), the git commit, and the package root the report
// files are written under.
import os from "node:os";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { round } from "./format.js";

export interface MachineDescription {
  readonly cpu: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  readonly commit: string | null;
  readonly uncommittedChanges: boolean | null;
  readonly date: string;
  /** os.loadavg() (1, 5, 15 min) when the run started and when it ended: other work on the machine. */
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
}

/** The nearest directory above this module holding a package.json (else the working directory). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function git(root: string, args: string[]): string | null {
  // An installed package (node_modules/umbra) is no checkout: git would describe the project around it.
  if (!existsSync(join(root, ".git"))) return null;
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** os.loadavg(), rounded. */
export function loadAverage(): number[] {
  return os.loadavg().map((x) => round(x, 3));
}

export function describeMachine(root: string = packageRoot()): MachineDescription {
  const cpus = os.cpus();
  const status = git(root, ["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 3),
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    commit: git(root, ["rev-parse", "HEAD"]),
    uncommittedChanges: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
  };
}
