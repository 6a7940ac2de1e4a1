// POST /keys reads the upload as it streams in: the size limit holds on the Content-Length and on every
// chunk, and the 16-byte header (magic, version, kind, parameter set) is checked as soon as it arrives,
// with the Content-Length against the keys' exact size, so a wrong upload is refused before its body is
// sent (the client here never finishes sending it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, relu } from "../../src/compiler/index.js";
import { createServer, type KeyRecord, MemoryKeyStore, ModelDev, type UmbraServer } from "../../src/deploy/index.js";
import { PARAM_MESSAGE_1, parameterFingerprint, type TfheParameters } from "../../src/tfhe/index.js";

const LIMIT = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), "umbra-upload-"));
const circuit = compile((x) => relu(x.add(-3)), { x: "encrypted" }, Array.from({ length: 16 }, (_, i) => [i]));
let server: UmbraServer, url: URL, puts = 0;

/** A serialized object's header: "UMBR", format version, kind, parameter fingerprint. */
function header(params: TfheParameters, kind = 11, magic = "UMBR"): Uint8Array {
  const h = new Uint8Array(16);
  h.set(new TextEncoder().encode(magic), 0);
  new DataView(h.buffer).setUint16(4, 1, true);
  new DataView(h.buffer).setUint16(6, kind, true);
  h.set(parameterFingerprint(params), 8);
  return h;
}

/** Starts an upload and writes `first`, without ending the request: resolves with the answer, if one comes. */
function startUpload(first: Uint8Array, headers: Record<string, string | number>): { req: ClientRequest; answer: Promise<{ status: number; body: { error: string; message: string } }> } {
  const req = httpRequest({ host: url.hostname, port: url.port, path: "/keys", method: "POST", headers: { "content-type": "application/octet-stream", ...headers } });
  const answer = new Promise<{ status: number; body: { error: string; message: string } }>((resolve, reject) => {
    req.once("response", (res: IncomingMessage) => {
      let text = "";
      res.on("data", (d: Buffer) => { text += d.toString(); });
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { error: string; message: string } }));
    });
    req.once("error", reject);
  });
  if (first.length > 0) req.write(first);
  else req.flushHeaders();
  return { req, answer };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);

before(async () => {
  await ModelDev.save(circuit, join(dir, "relu"));
  const store = new MemoryKeyStore();
  const counting = Object.assign(Object.create(store) as MemoryKeyStore, { put: async (id: string, r: KeyRecord) => { puts++; return store.put(id, r); } });
  server = await createServer({ modelsDir: dir, keyStore: counting, limits: { keyBytes: LIMIT } });
  url = new URL(await server.listen());
});

after(async () => {
  await server.close();
  circuit.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("a wrong header is refused before the rest of the upload is sent: magic, kind, parameter set, length", async () => {
  const params = circuit.server.params;
  const cases: [Uint8Array, string, RegExp][] = [
    [header(params, 11, "JUNK"), "BAD_KEYS", /magic/i],
    [header(params, 8), "BAD_KEYS", /ClientKey/],                 // a secret key is never taken for evaluation keys
    [header(PARAM_MESSAGE_1), "WRONG_PARAMETERS", /no model here uses/],
    // The right header, but a Content-Length other than the keys' exact size (known from the parameters).
    [header(params), "BAD_KEYS", /exactly \d+ bytes/],
  ];
  for (const [h, error, message] of cases) {
    const first = new Uint8Array(4096);
    first.set(h);
    const { req, answer } = startUpload(first, { "content-length": LIMIT - 1 });
    const a = await within(answer, 20_000, error);
    req.destroy();
    assert.equal(a.status, 400);
    assert.equal(a.body.error, error);
    assert.match(a.body.message, message);
  }
  assert.equal(puts, 0);
});

test("oversized uploads: a Content-Length over the limit at once, a chunked body as it passes the limit", async () => {
  const declared = startUpload(new Uint8Array(0), { "content-length": LIMIT + 1 });
  const a = await within(declared.answer, 20_000, "declared");
  declared.req.destroy();
  assert.deepEqual([a.status, a.body.error], [413, "TOO_LARGE"]);

  // Never ended: an answer can only come from the limit, checked as the chunks arrive.
  const chunked = startUpload(header(circuit.server.params), { "transfer-encoding": "chunked" });
  let sent = 16, answered = false;
  const b = chunked.answer.finally(() => { answered = true; });
  while (!answered && sent <= 64 * LIMIT) {
    await new Promise<void>((resolve) => chunked.req.write(new Uint8Array(64 * 1024), () => resolve()));
    sent += 64 * 1024;
  }
  const r = await within(b, 20_000, "chunked");
  chunked.req.destroy();
  assert.deepEqual([r.status, r.body.error], [413, "TOO_LARGE"]);
  assert.ok(sent > LIMIT);
  assert.equal(puts, 0);
});

test("truncated uploads: a body cut short of its Content-Length, a complete body with truncated keys", async () => {
  // The client goes away mid-body: nothing is stored, the server keeps serving.
  const cut = startUpload(Uint8Array.from([...header(circuit.server.params), ...new Uint8Array(50_000)]), { "content-length": 200_000 });
  cut.answer.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
  cut.req.destroy();
  assert.equal((await fetch(new URL("/health", url))).status, 200);
  // A whole request whose keys are cut short: the full decode refuses it.
  const body = Uint8Array.from([...header(circuit.server.params), ...new Uint8Array(5000).fill(7)]);
  const res = await fetch(new URL("/keys", url), { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, "BAD_KEYS");
  assert.equal(puts, 0);
});
