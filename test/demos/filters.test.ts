// The image filters through their deployed halves (circuit bundles, bytes only, the parameters the
// compiler chose): the decrypted, finished image equals the clear filter pixel for pixel. The
// convolutions run at the demo's size; the tone curve (one PBS per pixel) on a smaller image.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tensor } from "../../src/compiler/index.js";
import { ModelClient, ModelDev, ModelServer } from "../../src/deploy/index.js";
import {
  FILTERS, IMAGE_SIZE, type FilterSpec, type GreyImage, applyFilterClear, convolveClear, filterInput, filterSpec, finishFilter,
  greyFromRgba, padEdges, sampleImage,
} from "../../src/demos/filters.js";
import { compileFilter } from "../../src/demos/filter-circuits.js";

/** Deploys `filter` for `img`'s size, runs it encrypted through the bundles and returns the finished image. */
async function filterEncrypted(filter: FilterSpec, img: GreyImage, dir: string): Promise<{ out: GreyImage; serverValues: Float64Array }> {
  const circuit = compileFilter(filter, img.size);
  try {
    await ModelDev.save(circuit, join(dir, filter.id), { id: `filter-${filter.id}` });
  } finally {
    await circuit.close();
  }
  const server = await ModelServer.load(join(dir, filter.id)), client = await ModelClient.load(join(dir, filter.id));
  client.keygen();
  const keys = client.evaluationKeys();
  assert.equal(keys === undefined, filter.kind === "convolution", "only the lookup needs evaluation keys");
  const response = await server.run(client.quantizeEncryptSerialize([filterInput(filter, img)]), keys);
  const [t] = client.deserializeDecryptDequantize(response) as Tensor[];
  return { out: finishFilter(filter, t!.data, img.size), serverValues: t!.data };
}

test(`blur, sharpen and edges on a ${IMAGE_SIZE}×${IMAGE_SIZE} image: encrypted = clear, pixel for pixel`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-filters-"));
  try {
    const img = sampleImage();
    for (const f of FILTERS.filter((x) => x.kind === "convolution")) {
      const { out, serverValues } = await filterEncrypted(f, img, dir);
      assert.deepEqual(Array.from(serverValues), Array.from(convolveClear(f as never, padEdges(img), img.size)), `${f.id}: the server's sums`);
      assert.deepEqual(out.pixels, applyFilterClear(f, img).pixels, f.id);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tone curve (a lookup per pixel, real parameters) on an 8×8 image of every grey level: encrypted = clear", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-filters-"));
  try {
    const img: GreyImage = { size: 8, pixels: Uint8Array.from({ length: 64 }, (_, i) => (i * 4 + (i >> 4)) % 256) };
    const tone = filterSpec("tone");
    const { out } = await filterEncrypted(tone, img, dir);
    const want = applyFilterClear(tone, img);
    assert.deepEqual(out.pixels, want.pixels);
    assert.equal(new Set(want.pixels).size, 16, "all 16 levels of the table are read");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the clear pieces: edge padding, rounding, magnitude and clipping, grey conversion, bad input", () => {
  const img: GreyImage = { size: 2, pixels: Uint8Array.from([10, 20, 30, 40]) };
  assert.deepEqual(Array.from(padEdges(img)), [10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40]);
  const blur = filterSpec("blur"), edges = filterSpec("edges"), sharpen = filterSpec("sharpen");
  // 16·v sums back to v; 8 rounds half up to 1; a negative edge shows as its magnitude; sharpen clips.
  assert.deepEqual(Array.from(finishFilter(blur, [160, 8, 7, 4080], 2).pixels), [10, 1, 0, 255]);
  assert.deepEqual(Array.from(finishFilter(edges, [-30, 30, -300, 0], 2).pixels), [30, 30, 255, 0]);
  assert.deepEqual(Array.from(finishFilter(sharpen, [-5, 300, 12, 255], 2).pixels), [0, 255, 12, 255]);
  // A flat image: the blur and sharpen keep it, the edges vanish.
  const flat: GreyImage = { size: 4, pixels: new Uint8Array(16).fill(77) };
  assert.deepEqual(applyFilterClear(blur, flat).pixels, flat.pixels);
  assert.deepEqual(applyFilterClear(sharpen, flat).pixels, flat.pixels);
  assert.ok(applyFilterClear(edges, flat).pixels.every((v) => v === 0));
  assert.deepEqual(Array.from(greyFromRgba([255, 255, 255, 255], 1).pixels), [255]);
  assert.deepEqual(Array.from(greyFromRgba([255, 0, 0, 255], 1).pixels), [76]);
  assert.throws(() => greyFromRgba([1, 2, 3], 1), /expected 4 bytes/);
  assert.throws(() => filterSpec("emboss"), /expected one of blur, sharpen, edges, tone/);
  assert.throws(() => applyFilterClear(blur, { size: 3, pixels: new Uint8Array(4) }), /expected 3×3 = 9 grey bytes, got 4/);
  assert.equal(sampleImage().pixels.length, IMAGE_SIZE * IMAGE_SIZE);
  assert.ok(new Set(sampleImage().pixels).size > 8, "the sample has a range of greys");
});
