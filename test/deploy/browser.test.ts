// The browser client in real headless Chromium: `umbra serve` (a separate process) serves a model bundle,
// the browser client and its page; the page makes keys in a Web Worker, keeps the secret key in IndexedDB,
// uploads the evaluation keys, encrypts rows, has the server predict and decrypts; the predictions equal
// the clear model's. After a reload the key is reused: no worker, no second upload (the server's metrics
// count the uploads); when the server has lost them, the page uploads them again; "forget" deletes them on
// both sides. A screenshot is kept in
// test-artifacts/. About 30 s (Chromium, a keygen and evaluation keys again, three encrypted predictions).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { ModelDev } from "../../src/deploy/index.js";
import { chromiumPath, launchChromium, watchedPage } from "../helpers/chromium.js";
import { serve } from "./helpers.js";
import { irisTree } from "./iris-model.js";

const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url)); // dist/test/deploy → repo root

const uploads = (metrics: string): number => Number(/umbra_http_requests_total\{route="\/keys",method="POST",status="201"\} (\d+)/.exec(metrics)?.[1] ?? 0);

interface PageStats {
  keys: { reused: boolean; uploads: number; keygenMs: number; evaluationKeyBytes?: number };
  keyId: string;
  prediction: { rows: number; encryptMs: number; serverMs: number; decryptMs: number; requestBytes: number };
}

/** Types the rows into the page, submits, and reads back the predictions and the page's stats. */
async function predictInPage(page: Page, rows: number[][]): Promise<{ predictions: unknown[]; stats: PageStats; progress: string[] }> {
  await page.waitForSelector("body[data-state=ready], body[data-state=done]", { timeout: 15_000 });
  await page.fill("#rows", rows.map((r) => r.join(",")).join("\n"));
  // The submit handler marks the page busy before its first await, so before click() returns.
  await page.click("#predict");
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 60_000 });
  const progress = await page.locator("#progress li").allTextContents();
  assert.equal(await page.getAttribute("body", "data-state"), "done", `the page reported: ${progress.join(" | ")}`);
  const predictions = JSON.parse((await page.getAttribute("#predictions", "data-predictions"))!) as unknown[];
  return { predictions, stats: JSON.parse(await page.locator("#stats").textContent() ?? "") as PageStats, progress };
}

test("Chromium: keygen in a worker, encrypt, predict on the server, decrypt = the clear model; a reload reuses the key", async (t) => {
  const executable = chromiumPath(t);
  if (executable === undefined) return;
  const dir = mkdtempSync(join(tmpdir(), "umbra-browser-"));
  const { model, test: X } = irisTree(4);
  let served: Awaited<ReturnType<typeof serve>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    await ModelDev.save(model, join(dir, "models", "iris"));
    served = await serve(join(dir, "models"));
    const metrics = async (): Promise<string> => (await fetch(`${served!.url}/metrics`)).text();
    // The static files' types: the page, the ES modules (a module worker needs a JavaScript type).
    const types = await Promise.all(["/", "/browser/umbra-client.js", "/browser/keygen-worker.js"].map(async (p) => (await fetch(served!.url + p)).headers.get("content-type")));
    assert.deepEqual(types, ["text/html; charset=utf-8", "text/javascript; charset=utf-8", "text/javascript; charset=utf-8"]);

    browser = await launchChromium(executable);
    const { page, errors, workers } = await watchedPage(browser.context);
    await page.goto(`${served.url}/`);

    const pick = (...i: number[]): number[][] => i.map((k) => X[k]!); // X: 10 flowers of each species in turn
    const rows1 = pick(0, 12, 25, 17);
    const first = await predictInPage(page, rows1);
    assert.deepEqual(first.predictions, await model.predict(rows1), "the browser's decrypted predictions are the clear model's");
    assert.deepEqual({ reused: first.stats.keys.reused, uploads: first.stats.keys.uploads }, { reused: false, uploads: 1 });
    assert.ok(workers.some((u) => u.endsWith("/browser/keygen-worker.js")), `keygen ran in the worker (workers: ${workers.join(", ")})`);
    assert.ok(first.progress.some((l) => l.startsWith("keygen step: evaluation keys")), first.progress.join(" | "));
    assert.ok(first.progress.some((l) => l.startsWith("upload end")) && first.progress.some((l) => l.startsWith("server end")));
    assert.equal(uploads(await metrics()), 1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "browser-client.png"), fullPage: true });

    // A second visit: the secret key from IndexedDB, the server's key id remembered: no worker, no upload.
    workers.length = 0;
    await page.reload();
    const rows2 = pick(21, 5, 14, 28);
    const second = await predictInPage(page, rows2);
    assert.deepEqual(second.predictions, await model.predict(rows2));
    assert.deepEqual(second.stats.keys, { reused: true, uploads: 0, keygenMs: 0 });
    assert.equal(second.stats.keyId, first.stats.keyId);
    assert.equal(workers.length, 0, "no key generation on the second visit");
    assert.equal(uploads(await metrics()), 1, "no second upload");

    // The server lost the keys (deleted here with the token the page keeps): the page's next prediction
    // has the worker make the evaluation keys of its stored secret key again, and uploads them once.
    const { keyId, token } = await page.evaluate(() => new Promise<{ keyId: string; token: string }>((resolve, reject) => {
      const open = indexedDB.open("umbra-keys");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const all = open.result.transaction("keys").objectStore("keys").getAll();
        all.onsuccess = () => resolve(Object.values((all.result[0] as { uploads: Record<string, { keyId: string; token: string }> }).uploads)[0]!);
        all.onerror = () => reject(all.error);
      };
    }));
    assert.equal(keyId, first.stats.keyId);
    assert.equal((await fetch(`${served.url}/keys/${keyId}`, { method: "DELETE", headers: { "x-umbra-key-token": token } })).status, 204);
    const rows3 = pick(9, 19, 29);
    const third = await predictInPage(page, rows3);
    assert.deepEqual(third.predictions, await model.predict(rows3));
    assert.equal(third.stats.keys.uploads, 1);
    assert.notEqual(third.stats.keyId, keyId);
    assert.ok(workers.some((u) => u.endsWith("/browser/keygen-worker.js")), "the evaluation keys were made in the worker");
    assert.equal(uploads(await metrics()), 2);

    // "Forget my keys": deleted on the server (with the token) and in IndexedDB.
    await page.click("#forget");
    await page.waitForSelector("#progress li:has-text('forgotten')");
    assert.match(await metrics(), /umbra_http_requests_total\{route="\/keys\/:id",method="DELETE",status="204"\} 2/);
    assert.equal(await page.evaluate(() => new Promise<number>((resolve, reject) => {
      const open = indexedDB.open("umbra-keys");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const n = open.result.transaction("keys").objectStore("keys").count();
        n.onsuccess = () => resolve(n.result);
      };
    })), 0);
    assert.deepEqual(errors, []);
    const p = first.stats.prediction;
    t.diagnostic(`Chromium, iris tree, ${p.rows} rows: keygen (worker) ${first.stats.keys.keygenMs.toFixed(0)} ms, evaluation keys ` +
      `${((first.stats.keys.evaluationKeyBytes ?? 0) / 2 ** 20).toFixed(1)} MiB; encrypt ${p.encryptMs.toFixed(0)} ms, ` +
      `server ${p.serverMs.toFixed(0)} ms, decrypt ${p.decryptMs.toFixed(1)} ms; request ${(p.requestBytes / 1024).toFixed(1)} KiB`);
  } finally {
    await browser?.close();
    await served?.stop();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
