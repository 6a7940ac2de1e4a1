// The `umbra` command as users install it: `npm pack` of this build, installed offline into a fresh project
// (its dependencies packed from this checkout's node_modules), then `umbra params` and a one-section
// `umbra bench` run from the installed bin. The bench report goes to the working directory or --out, never
// into node_modules. About 4 s (pack ≈ 1 s, install ≈ 1 s).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url)); // dist/test/ → the repository
const npm = (args: readonly string[], cwd: string): string =>
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

test("npm pack → npm install (offline) → the installed umbra runs params and bench, writing the report where it is run", () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-pack-"));
  try {
    const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], root)) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    assert.ok(files.includes("dist/src/cli/main.js") && files.includes("dist/bench/run.js"), "the CLI and the bench runner it imports ship");
    assert.ok(!files.some((f) => f.startsWith("dist/test/") || f.startsWith("src/")), "no tests or sources in the package");
    for (const f of ["dist/browser/umbra-client.js", "dist/browser/keygen-worker.js", "dist/browser/page/index.html"]) assert.ok(files.includes(f), `${f} ships (the browser client umbra serve serves)`);
    for (const f of ["dist/demo-web/index.html", "dist/demo-web/app.js", "dist/demo-web/style.css", "dist/src/demos/bundles.js"]) assert.ok(files.includes(f), `${f} ships (the demo page umbra demo serves)`);
    // Every production dependency (transitively), packed from this checkout: the install needs no registry.
    const depDirs = npm(["ls", "--omit=dev", "--all", "--parseable"], root).trim().split("\n").slice(1).filter((d) => d.length > 0);
    // One npm run for them all (one per package takes seconds each); no lifecycle scripts: they are built.
    const deps = (JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir, ...depDirs], dir)) as { filename: string }[]).map((p) => join(dir, p.filename));
    const project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "umbra-install-test", version: "1.0.0", private: true }));
    npm(["install", "--offline", "--ignore-scripts", join(dir, packed[0]!.filename), ...deps], project);
    const bin = join(project, "node_modules", ".bin", "umbra");
    const installed = join(project, "node_modules", "umbra");

    const rows = execFileSync(bin, ["params", "--json"], { cwd: project, encoding: "utf8" }).trim().split("\n").map((l) => JSON.parse(l) as { name: string });
    assert.equal(rows.length, 8);
    assert.equal(rows[0]!.name, "PARAM_MESSAGE_1");

    const work = join(dir, "work");
    mkdirSync(work);
    const out = execFileSync(bin, ["bench", "--only", "fft", "--runs", "1", "--json"], { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const results = out.trim().split("\n").map((l) => JSON.parse(l) as { name: string; n: number });
    assert.deepEqual(results.map((r) => [r.name, r.n]), [["fft/2048", 1]]);
    assert.match(readFileSync(join(work, "BENCHMARKS.md"), "utf8"), /## FFT[^#]*\n\| 2048 \| [\d,]+ \|/);
    assert.ok(existsSync(join(work, "bench", "results", "latest.json")));
    assert.ok(!existsSync(join(installed, "BENCHMARKS.md")), "nothing written into node_modules");
    assert.ok(!existsSync(join(installed, "bench")));

    const elsewhere = join(dir, "report");
    execFileSync(bin, ["bench", "--only", "fft", "--runs", "1", "--out", elsewhere], { cwd: work, stdio: "ignore" });
    assert.deepEqual(readdirSync(elsewhere).sort(), ["BENCHMARKS.md", "bench"]);
    assert.throws(() => execFileSync(bin, ["bench", "--only", "gpu"], { cwd: work, stdio: "pipe" }), /--only takes sections among fft, pbs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
