// Static files of `umbra serve`: each file of the directories at its own route with its MIME type (a
// separate .wasm as application/wasm), index.html at its directory's path, no dotfile, no path from the
// request reaching the file system; public under an auth token while the API still needs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../src/compiler/index.js";
import { createServer, ModelDev } from "../../src/deploy/index.js";

test("static files: MIME types, index pages, nothing else from the disk; public while the API needs the token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-static-"));
  const circuit = compile((x) => x.mul(2).add(1), { x: "encrypted" }, [[[0, 1, 2, 3]]]);
  await ModelDev.save(circuit, join(dir, "models", "double"), { id: "double" });
  const web = join(dir, "web"), client = join(dir, "client");
  mkdirSync(join(web, "img"), { recursive: true });
  mkdirSync(client);
  writeFileSync(join(web, "index.html"), "<!doctype html><title>t</title>");
  writeFileSync(join(web, "img", "logo.svg"), "<svg/>");
  writeFileSync(join(web, ".secret.json"), "{}");
  writeFileSync(join(web, "notes.md"), "not served: no known type");
  writeFileSync(join(client, "umbra-client.js"), "export {};");
  writeFileSync(join(client, "kernels.wasm"), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const server = await createServer({
    modelsDir: join(dir, "models"), authToken: "t0ken", staticDirs: [{ dir: client, at: "/browser/" }, { dir: web, at: "/" }],
  });
  try {
    const url = await server.listen();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const r = await fetch(url + path, { headers });
      return { status: r.status, type: r.headers.get("content-type"), nosniff: r.headers.get("x-content-type-options"), body: new Uint8Array(await r.arrayBuffer()) };
    };
    assert.deepEqual(await get("/").then((r) => [r.status, r.type, r.nosniff]), [200, "text/html; charset=utf-8", "nosniff"]);
    assert.deepEqual(await get("/index.html").then((r) => [r.status, r.type]), [200, "text/html; charset=utf-8"]);
    assert.deepEqual(await get("/img/logo.svg").then((r) => [r.status, r.type]), [200, "image/svg+xml"]);
    assert.deepEqual(await get("/browser/umbra-client.js").then((r) => [r.status, r.type]), [200, "text/javascript; charset=utf-8"]);
    const wasm = await get("/browser/kernels.wasm");
    assert.deepEqual([wasm.status, wasm.type, Array.from(wasm.body)], [200, "application/wasm", [0, 97, 115, 109, 1, 0, 0, 0]]);
    // Not served: dotfiles, unknown types, anything outside the directories (with or without the token).
    for (const path of ["/.secret.json", "/notes.md", "/browser/../models/double/server.json", "/browser/%2e%2e/web/index.html", "/img/../../models/double/client.json"]) {
      const r = await get(path, { authorization: "Bearer t0ken" });
      assert.equal(r.status, 404, path);
    }
    // The API still needs the token; /health does not.
    assert.equal((await get("/models")).status, 401);
    assert.equal((await get("/models", { authorization: "Bearer t0ken" })).status, 200);
    assert.equal((await get("/health")).status, 200);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a static prefix that is not a directory path is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-static-"));
  try {
    await ModelDev.save(compile((x) => x.add(1), { x: "encrypted" }, [[[0, 1]]]), join(dir, "m"), { id: "m" });
    await assert.rejects(createServer({ modelsDir: join(dir, "m"), staticDirs: [{ dir, at: "browser" }] }), /expected "\/" or "\/name\/"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
