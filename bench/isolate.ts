// Runs one named set in a child process (`run.js --json --only-set <name>`): fresh kernel memory for the
// big sets, and their GiBs of keys are returned to the system when it exits. The child's JSON lines are
// emitted here as they come; a failed child is recorded as the set's pbs result (or, when that result
// already came, as child-process/<set>).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TfheParameters } from "../src/tfhe/index.js";
import type { BenchResult } from "./harness.js";
import type { Ctx } from "./plan.js";

const RUN = fileURLToPath(new URL("./run.js", import.meta.url));

export function runIsolated(ctx: Ctx, p: TfheParameters): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, "--json", "--only-set", p.name], { stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let got = 0;
    let pbsDone = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        try {
          const r = JSON.parse(line) as BenchResult;
          ctx.emit(r);
          got++;
          if (r.name === `pbs/${p.name}`) pbsDone = true;
        } catch {
          ctx.log(`(child) ${line}`);
        }
      }
    });
    let err = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      err = (err + d).slice(-2000);
      for (const l of d.split("\n")) if (l.trim()) ctx.log(l);
    });
    child.on("close", (code, signal) => {
      if (code !== 0) {
        const lines = err.split("\n").map((l) => l.trim()).filter((l) => l !== "");
        const cause = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.at(-1) ?? "no output";
        ctx.emit({
          name: `${pbsDone ? "child-process" : "pbs"}/${p.name}`, section: "pbs", params: p.name,
          error: `child process exited with ${code ?? signal}: ${cause}`,
          ...(got > 0 ? { note: `${got} results before the failure` } : {}), n: 0, unit: "ms",
        });
      }
      resolve();
    });
  });
}
