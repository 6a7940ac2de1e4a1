// `umbra compile` from an uncompiled umbra/ml model's JSON with calibration rows, and `umbra keygen`, as a
// user runs them: the bundles predict as the model compiled in process does; bad input fails with a message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelClient, ModelServer } from "../../src/deploy/index.js";
import { Ridge } from "../../src/ml/index.js";
import { loadCsv } from "../ml/helpers.js";
import { CLI, run } from "./helpers.js";

test("umbra compile (umbra/ml JSON + --calibration) and umbra keygen; bad model files fail with a message", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-cli-deploy-"));
  try {
    const d = loadCsv("diabetes.csv");
    const model = new Ridge({ alpha: 0.5 }).fit(d.X, d.y);
    writeFileSync(join(dir, "ridge.json"), JSON.stringify(model.toJSON()));
    writeFileSync(join(dir, "calib.csv"), d.header.slice(0, -1).join(",") + "\n" + d.X.map((r) => r.join(",")).join("\n") + "\n");
    const c = await run(CLI, ["compile", join(dir, "ridge.json"), "--calibration", join(dir, "calib.csv"), "--out", join(dir, "ridge"), "--batch-size", "5", "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout).id, "ridge");

    const k = await run(CLI, ["keygen", "--bundle", join(dir, "ridge"), "--out", join(dir, "ridge.key")]);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(statSync(join(dir, "ridge.key")).mode & 0o777, 0o600);
    const client = await ModelClient.load(join(dir, "ridge"));
    await client.loadKey(join(dir, "ridge.key"));
    const server = await ModelServer.load(join(dir, "ridge"));
    const X = d.X.slice(0, 7);
    const got = client.deserializeDecryptDequantize(await server.run(client.quantizeEncryptSerialize(X)));
    assert.deepEqual(got, await model.compile(d.X, { batchSize: 5 }).predict(X));

    writeFileSync(join(dir, "junk.json"), JSON.stringify({ hello: 1 }));
    const bad = await run(CLI, ["compile", join(dir, "junk.json"), "--out", join(dir, "junk")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected an umbra\/ml model's toJSON/);
    assert.ok(!existsSync(join(dir, "junk")));
    const noKey = await run(CLI, ["keygen", "--out", join(dir, "x.key")]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /pass --bundle <dir>, or --server <url> and --model <id>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("umbra serve --json prints exactly one JSON line (url, models, page) and stops on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-cli-serve-json-"));
  try {
    const d = loadCsv("diabetes.csv");
    writeFileSync(join(dir, "ridge.json"), JSON.stringify(new Ridge().fit(d.X, d.y).toJSON()));
    writeFileSync(join(dir, "calib.csv"), d.X.map((r) => r.join(",")).join("\n") + "\n");
    const c = await run(CLI, ["compile", join(dir, "ridge.json"), "--calibration", join(dir, "calib.csv"), "--out", join(dir, "models", "ridge")]);
    assert.equal(c.code, 0, c.stderr);
    const proc = spawn(process.execPath, [CLI, "serve", join(dir, "models"), "--port", "0", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => { out += b.toString(); });
    const exited = once(proc, "exit");
    const t0 = Date.now();
    while (!out.includes("\n") && proc.exitCode === null && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    const first = JSON.parse(out.split("\n")[0]!) as { url: string; models: string[]; page?: string };
    assert.deepEqual(first.models, ["ridge"]);
    assert.equal(first.page, `${first.url}/`);
    assert.equal((await fetch(first.page!)).status, 200);
    proc.kill("SIGTERM");
    await exited;
    assert.equal(out.trim().split("\n").length, 1, `stdout: ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
