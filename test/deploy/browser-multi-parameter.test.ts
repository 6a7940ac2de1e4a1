// The browser client with a multi-parameter circuit, in headless Chromium: the page imports the bundled
// client (dist/browser) from the server and calls connect(): the keys of every partition are made in the
// Web Worker, kept in IndexedDB and uploaded as one key bundle; the decrypted outputs equal the clear
// function's; a second connect() reuses the stored keys (no keygen, no upload).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toNested } from "../../src/compiler/index.js";
import { createServer, ModelDev } from "../../src/deploy/index.js";
import { chromiumPath, launchChromium, watchedPage } from "../helpers/chromium.js";
import { bits, mixedCircuit } from "./mixed-circuit.js";

const BROWSER = fileURLToPath(new URL("../../browser/", import.meta.url)); // dist/test/deploy → dist/browser

interface PageRun {
  outputs: { shape: number[]; data: number[] }[][];
  keys: { reused: boolean; uploads: number; keygenMs: number };
  partitions: number;
}

test("Chromium: a multi-parameter circuit's keys made in the worker, kept in IndexedDB, uploaded as one bundle; outputs = the clear function's", async (t) => {
  const executable = chromiumPath(t);
  if (executable === undefined) return;
  const dir = mkdtempSync(join(tmpdir(), "umbra-browser-multi-"));
  const circuit = mixedCircuit();
  const server = await createServer({ modelsDir: (await ModelDev.save(circuit, join(dir, "mixed")), join(dir, "mixed")), staticDirs: [{ dir: BROWSER, at: "/browser/" }], limits: { threads: 1 } });
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    const url = await server.listen();
    browser = await launchChromium(executable);
    const { page, errors, workers } = await watchedPage(browser.context);
    await page.goto(`${url}/health`);
    const inputs: [number[], number][] = [[bits(0), 3], [bits(1), 12]];
    const run = (): Promise<PageRun> => page.evaluate(async ([base, samples]) => {
      const m = await import(`${base}/browser/umbra-client.js`) as typeof import("../../src/client/index.js");
      const remote = await m.connect(base, "mixed");
      const outputs = [];
      for (const s of samples) outputs.push((await remote.predict(s) as { shape: number[]; data: Float64Array }[]).map((o) => ({ shape: o.shape, data: Array.from(o.data) })));
      return { outputs, keys: remote.keys, partitions: remote.client.partitions.length };
    }, [url, inputs] as const);

    const first = await run();
    assert.ok(first.partitions >= 2);
    const want = inputs.map(([x, y]) => circuit.runClear(x, y).map(toNested));
    const got = (r: PageRun) => r.outputs.map((o) => o.map((v) => toNested({ shape: v.shape, data: Float64Array.from(v.data) })));
    assert.deepEqual(got(first), want, "the browser's decrypted outputs are the clear function's");
    assert.deepEqual({ reused: first.keys.reused, uploads: first.keys.uploads }, { reused: false, uploads: 1 });
    assert.ok(workers.some((u) => u.endsWith("/browser/keygen-worker.js")), `keygen ran in the worker (workers: ${workers.join(", ")})`);

    workers.length = 0;
    const second = await run();
    assert.deepEqual(got(second), want);
    assert.deepEqual(second.keys, { reused: true, uploads: 0, keygenMs: 0 }, "every partition's secret key from IndexedDB, the server's key id remembered");
    assert.equal(workers.length, 0);
    assert.deepEqual(errors, []);
    t.diagnostic(`Chromium, ${first.partitions} partitions: keygen (worker) ${first.keys.keygenMs.toFixed(0)} ms`);
  } finally {
    await browser?.close();
    await server.close();
    await circuit.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
