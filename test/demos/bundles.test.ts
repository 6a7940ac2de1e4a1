// The demo's bundles are made at start-up, so they must come out the same every time: two builds give the
// same fingerprints (the same trained weights and circuits), one bundle per model, as `umbra serve` reads them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDemoBundles } from "../../src/demos/bundles.js";

test("writeDemoBundles: the diagnosis model and four filters, deterministic", async () => {
  const a = mkdtempSync(join(tmpdir(), "umbra-demo-a-")), b = mkdtempSync(join(tmpdir(), "umbra-demo-b-"));
  try {
    const first = await writeDemoBundles(a, { imageSize: 8 }), second = await writeDemoBundles(b, { imageSize: 8 });
    assert.deepEqual(first.map((x) => x.id), ["diagnosis", "filter-blur", "filter-sharpen", "filter-edges", "filter-tone"]);
    assert.deepEqual(first.map((x) => x.linearOnly), [true, true, true, true, false]);
    assert.deepEqual(second.map((x) => x.fingerprint), first.map((x) => x.fingerprint));
    assert.deepEqual(readdirSync(a).sort(), first.map((x) => x.id).sort());
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
