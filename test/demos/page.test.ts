// The demo page in real headless Chromium, served as `npm start` serves it (`umbra demo --page-only`, a
// separate process running `umbra serve`): ticked symptoms give the clear model's diagnoses and scores;
// the sample picture, filtered on ciphertexts, equals the clear filter pixel for pixel; after a reload the
// secret key comes from IndexedDB. The tone curve (lookups: keys made in the page's worker, evaluation
// keys uploaded) has a test of its own. Screenshots go to test-artifacts/ (gitignored).
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { FILTERS, IMAGE_SIZE, applyFilterClear, filterSpec, sampleImage } from "../../src/demos/filters.js";
import { trainDiagnosisModel } from "../../src/demos/health.js";
import { SYMPTOMS, type Diagnosis, topDiagnoses } from "../../src/demos/symptoms.js";
import { chromiumPath, launchChromium, watchedPage } from "../helpers/chromium.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url)); // dist/test/demos → repo root

/** `umbra demo --page-only` on a free port, with its bundles and keys in `dir`; resolves with the page's URL. */
async function startDemo(dir: string): Promise<{ url: string; proc: ChildProcess; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [CLI, "demo", "--page-only", "--port", "0", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  proc.stderr!.on("data", (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /demo page: open (http:\/\/\S+?)\/ in a browser/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`umbra demo exited (${code}): ${out} ${err}`)));
  });
  return {
    url, proc,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

async function finished(page: Page): Promise<void> {
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 150_000 });
  const steps = await page.locator("#steps li").allTextContents();
  assert.equal(await page.getAttribute("body", "data-state"), "done", `the page reported: ${steps.join(" | ")}`);
}

const greyOf = async (page: Page, canvas: string): Promise<number[]> => Array.from(Buffer.from((await page.getAttribute(canvas, "data-grey"))!, "base64"));

async function withDemoPage(t: Parameters<typeof chromiumPath>[0], body: (page: Page, url: string) => Promise<void>): Promise<void> {
  const executable = chromiumPath(t);
  if (executable === undefined) return;
  const dir = mkdtempSync(join(tmpdir(), "umbra-demo-page-"));
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    demo = await startDemo(dir);
    browser = await launchChromium(executable);
    const { page, errors } = await watchedPage(browser.context);
    await page.goto(`${demo.url}/`);
    await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await body(page, demo.url);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("Chromium demo page: ticked symptoms → the clear model's diagnoses; the sample, blurred on ciphertexts → the clear blur; a reload reuses the key", async (t) => {
  const model = trainDiagnosisModel();
  try {
    await withDemoPage(t, async (page) => {
      // Symptoms found through the search box, ticked by their labels.
      const chosen = ["high fever", "cough", "breathlessness", "phlegm", "chest pain"];
      for (const s of chosen) {
        await page.fill("#symptom-search", s.split(" ")[0]!);
        await page.getByLabel(s, { exact: true }).check();
      }
      await page.fill("#symptom-search", "");
      await page.click("#diagnose");
      await finished(page);
      const shown = JSON.parse((await page.getAttribute("#diagnoses", "data-result"))!) as Diagnosis[];
      const x = SYMPTOMS.map((s) => (chosen.includes(s) ? 1 : 0));
      const [proba] = await model.predictProba([x]);
      const want = topDiagnoses(proba!, model.classes.map(String), 5);
      assert.deepEqual(shown.map((d) => d.disease), want.map((d) => d.disease));
      shown.forEach((d, i) => assert.ok(Math.abs(d.probability - want[i]!.probability) < 1e-12, `${d.disease}: ${d.probability} vs ${want[i]!.probability}`));
      assert.ok(Number(await page.getAttribute("#sent", "data-bytes")) > 0 && Number(await page.getAttribute("#received", "data-bytes")) > 0);
      assert.match((await page.locator("#sent").textContent())!, /KiB of ciphertexts(\s*[0-9a-f]{2})+/);
      assert.equal(await page.getAttribute("#keys-note", "data-reused"), "false");
      await page.screenshot({ path: join(ARTIFACTS, "demo-health.png"), fullPage: true });

      // The image tab by keyboard (arrow keys between tabs), the sample picture, the blur.
      await page.focus("#tab-health");
      await page.keyboard.press("ArrowRight");
      assert.equal(await page.getAttribute("#tab-image", "aria-selected"), "true");
      assert.equal(await page.isVisible("#panel-image"), true);
      await page.click("#use-sample");
      await page.check("#filter-blur");
      await page.click("#apply-filter");
      await finished(page);
      const sample = sampleImage(IMAGE_SIZE);
      assert.deepEqual(await greyOf(page, "#before-canvas"), Array.from(sample.pixels));
      assert.deepEqual(await greyOf(page, "#after-canvas"), Array.from(applyFilterClear(filterSpec("blur"), sample).pixels), "the decrypted blur equals the clear blur");
      await page.screenshot({ path: join(ARTIFACTS, "demo-image.png"), fullPage: true });

      // A second visit: the key from IndexedDB, no new one.
      await page.reload();
      await page.waitForSelector("body[data-state=ready]");
      await page.getByLabel("itching", { exact: true }).check();
      await page.click("#diagnose");
      await finished(page);
      assert.equal(await page.getAttribute("#keys-note", "data-reused"), "true");
      assert.equal(await page.locator("#steps li", { hasText: "Making keys" }).count(), 0);
    });
  } finally {
    await model.close();
  }
});

test("Chromium demo page: the tone curve (keys made in the worker, evaluation keys uploaded, a PBS per pixel) equals the clear filter", async (t) => {
  await withDemoPage(t, async (page) => {
    await page.click("#tab-image");
    await page.check("#filter-tone");
    await page.click("#apply-filter");
    await finished(page);
    const steps = await page.locator("#steps li").allTextContents();
    assert.ok(steps.some((s) => s.startsWith("Making keys in a background worker")) && steps.some((s) => s.startsWith("Uploading evaluation keys")), steps.join(" | "));
    const tone = FILTERS.find((f) => f.id === "tone")!;
    assert.deepEqual(await greyOf(page, "#after-canvas"), Array.from(applyFilterClear(tone, sampleImage(IMAGE_SIZE)).pixels));
    assert.match((await page.locator("#eval-keys").textContent())!, /MiB uploaded/);
    await page.screenshot({ path: join(ARTIFACTS, "demo-tone.png"), fullPage: true });
  });
});
