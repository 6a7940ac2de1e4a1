// The browser entry `umbra/client`, bundled with esbuild for the browser platform: its inputs (from the
// metafile) include nothing of the compiler, of the server half or of the Node-only worker pool, and no
// `node:` import; the minified bundle, loaded on its own, keygens, encrypts and decrypts for a server
// running the runtime's server half. Sizes are reported as diagnostics. About 1 s plus one keygen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { compile, lut } from "../../src/compiler/index.js";
import { CircuitServer } from "../../src/runtime/index.js";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "../../src/kernels/wasm-binary.generated.js";

const dist = fileURLToPath(new URL("../../src/", import.meta.url)); // dist/test/runtime/ → dist/src/

/**
 * What a browser client must not carry: the compiler, the server half, the worker pool, server-side keys,
 * the deployment layer's server and Node-only files.
 */
const FORBIDDEN: readonly RegExp[] = [
  /src\/compiler\//,
  /src\/runtime\/(server|evaluator|clear-node|graph-codec|fusion)\.js$/,
  /src\/tfhe\/(worker-pool|pbs-worker|server-key)\.js$/,
  /src\/deploy\/(index|bundle|http-server|static-files|model-server|model-client|remote|key-store|key-cache|key-file-store|fifo|metrics)\.js$/,
  /node_modules\//,
];

async function bundle(entry: string): Promise<{ code: Uint8Array; inputs: string[]; nodeImports: string[] }> {
  const r = await esbuild.build({
    entryPoints: [join(dist, entry)], bundle: true, platform: "browser", format: "esm", minify: true, write: false,
    metafile: true, logLevel: "silent",
  });
  assert.deepEqual(r.errors, [], `${entry} bundles for the browser without errors`);
  const inputs = Object.keys(r.metafile.inputs);
  const nodeImports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((m) => m.path)).filter((p) => p.startsWith("node:"));
  return { code: r.outputFiles[0]!.contents, inputs, nodeImports };
}

const forbiddenIn = (inputs: readonly string[]): string[] => inputs.filter((f) => FORBIDDEN.some((re) => re.test(f)));

test("umbra/client bundles for the browser without compiler, server or Node code; sizes reported", async (t) => {
  const { code, inputs, nodeImports } = await bundle("client/index.js");
  assert.deepEqual(forbiddenIn(inputs), [], "no compiler, server or worker-pool module in the client bundle");
  assert.deepEqual(nodeImports, [], "no node: import");
  assert.ok(!new TextDecoder().decode(code).includes("node:"), "no node: specifier in the bundled code");
  assert.ok(inputs.some((f) => f.endsWith("runtime/client.js")) && inputs.some((f) => f.endsWith("tfhe/client-key.js")));
  for (const f of ["deploy/remote-model.js", "deploy/bundle-client.js", "client/indexeddb-key-store.js", "client/worker-keygen.js"]) {
    assert.ok(inputs.some((i) => i.endsWith(f)), `${f} is in the bundle`);
  }

  const wasm = Buffer.from(KERNELS_WASM_BASE64, "base64").length;
  const gzip = gzipSync(code, { level: 9 }).length;
  const kernelsB64 = KERNELS_WASM_BASE64.length + KERNELS_RELAXED_WASM_BASE64.length;
  t.diagnostic(`umbra/client browser bundle: ${inputs.length} files, ${code.length} B minified, ${gzip} B gzip ` +
    `(it embeds the ${wasm} B WebAssembly kernels, baseline and relaxed-SIMD builds, as ${kernelsB64} B of base64)`);
  // A guard against the compiler creeping back in (it would add well over 100 kB of minified code), on the
  // code besides the embedded kernel builds.
  assert.ok(code.length - kernelsB64 < 110_000, `client bundle ${code.length} B, of which ${code.length - kernelsB64} B besides the kernels`);
});

test("the keygen worker bundles for the browser without Node code", async () => {
  const { inputs, nodeImports } = await bundle("client/keygen-worker.js");
  assert.deepEqual(forbiddenIn(inputs), []);
  assert.deepEqual(nodeImports, []);
  assert.ok(inputs.some((f) => f.endsWith("deploy/bundle-client.js")) && inputs.some((f) => f.endsWith("kernels/wasm.js")));
});

test("the bundle check is not vacuous: the runtime entry (server half), the compiler and umbra/deploy fail it", async () => {
  const runtime = await bundle("runtime/index.js");
  const bad = forbiddenIn(runtime.inputs).map((f) => f.replace(/^.*src\//, ""));
  for (const f of ["runtime/server.js", "runtime/evaluator.js", "tfhe/worker-pool.js"]) assert.ok(bad.includes(f), `${f} found in ${bad.join(", ")}`);
  const compiler = await bundle("compiler/index.js");
  const compilerFiles = forbiddenIn(compiler.inputs).map((f) => f.replace(/^.*src\//, ""));
  for (const f of ["tracer", "bounds", "intervals", "passes", "compile", "norms", "interpreter"]) {
    assert.ok(compilerFiles.includes(`compiler/${f}.js`), `compiler/${f}.js`);
  }
  const deploy = await esbuild.build({
    entryPoints: [join(dist, "deploy/index.js")], bundle: true, platform: "node", format: "esm", write: false, metafile: true, logLevel: "silent", packages: "external",
  });
  const deployFiles = forbiddenIn(Object.keys(deploy.metafile.inputs)).map((f) => f.replace(/^.*src\//, ""));
  for (const f of ["deploy/http-server.js", "deploy/model-client.js", "deploy/key-file-store.js"]) assert.ok(deployFiles.includes(f), `${f} found in ${deployFiles.join(", ")}`);
});

test("the core's index, with PbsWorkerPool and its lazy node: imports, still bundles for the browser", async () => {
  const { inputs, nodeImports } = await bundle("tfhe/index.js");
  assert.ok(inputs.some((f) => f.endsWith("tfhe/worker-pool.js")));
  // The pool loads node:worker_threads and node:os through a computed import(): nothing to resolve at bundle time.
  assert.deepEqual(nodeImports, []);
});

test("the bundled client alone: keygen, encrypt, decrypt against the runtime's server half (real parameters)", async () => {
  const circuit = compile((x) => lut(x.mul(3).add(1), (v) => (v * v) % 7), { x: "encrypted" }, [[[0, 1, 2, 3]]]);
  assert.equal(circuit.parameters.linearOnly, false);
  const { code } = await bundle("client/index.js");
  const dir = mkdtempSync(join(tmpdir(), "umbra-client-bundle-"));
  try {
    const file = join(dir, "client.mjs");
    writeFileSync(file, code);
    const bundled = await import(pathToFileURL(file).href) as typeof import("../../src/client/index.js");
    const client = bundled.CircuitClient.deserialize(circuit.client.serialize());
    client.keygen();
    const server = CircuitServer.deserialize(circuit.server.serialize());
    const keys = server.loadKeys(client.serializedEvaluationKeys()!);
    const x = [3, 0, 2, 1];
    const results = server.run(client.encrypt(x), keys);
    assert.deepEqual(client.decrypt(results).map((o) => Array.from(o.data)), circuit.runClear(x).map((o) => Array.from(o.data)));
    assert.throws(() => client.encrypt([4, 0, 0, 0]), bundled.InputOutOfRangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
