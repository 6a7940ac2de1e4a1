// JSON nested thousands deep in a bundle is refused by the bundle decoder (DeserializationError
// INVALID_VALUE, depth checked on the text before anything recurses), at every entry point that decodes
// one: deserializeBundle, Circuit{Client,Server}.deserialize, CircuitServer.run, CircuitClient.decrypt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitClient, CircuitServer, CLIENT_TYPE, compile, SERVER_TYPE, VALUES_TYPE } from "../../src/compiler/index.js";
import {
  DeserializationError, deserializeBundle, MAX_JSON_DEPTH, serialize, serializeBundle, type TfheParameters,
} from "../../src/tfhe/index.js";
import { _recomputeChecksum } from "../../src/tfhe/serialization/checksum.js";

/** A well-framed bundle whose JSON is `text` (any text: the encoder only writes canonical JSON). */
function bundleWithJson(type: string, text: string, params: TfheParameters, parts: Uint8Array[]): Uint8Array {
  const placeholder = "x".repeat(text.length - 2); // JSON.stringify adds the two quotes
  const bytes = serializeBundle({ type, json: placeholder, parts }, params);
  const marker = new TextEncoder().encode(JSON.stringify(placeholder));
  const at = bytes.findIndex((_, i) => marker.every((m, j) => bytes[i + j] === m));
  assert.ok(at > 0);
  bytes.set(new TextEncoder().encode(text), at);
  return _recomputeChecksum(bytes);
}

const nested = (depth: number, inner = "0"): string => "[".repeat(depth) + inner + "]".repeat(depth);

function expectTooDeep(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DeserializationError, `${what}: got ${String(e)}`);
    assert.equal(e.code, "INVALID_VALUE", what);
    assert.match(e.message, new RegExp(`deeper than ${MAX_JSON_DEPTH}`), what);
    return true;
  });
}

test("JSON 5000 deep: DeserializationError at every decoder of bundles, not a stack overflow", () => {
  const c = compile((x) => x.mul(2).add(1), { x: "encrypted" }, [[[0, 1]], [[3, 2]]]);
  const params = c.parameters.params;
  const paramsPart = serialize(params);
  const deep = nested(5000);
  expectTooDeep(() => deserializeBundle(bundleWithJson(SERVER_TYPE, deep, params, [paramsPart]), SERVER_TYPE, null), "deserializeBundle");
  expectTooDeep(() => CircuitServer.deserialize(bundleWithJson(SERVER_TYPE, `{"bits":3,"graph":${deep}}`, params, [paramsPart])), "CircuitServer.deserialize");
  expectTooDeep(() => CircuitClient.deserialize(bundleWithJson(CLIENT_TYPE, `{"inputs":${deep}}`, params, [paramsPart])), "CircuitClient.deserialize");
  const request = bundleWithJson(VALUES_TYPE, `{"values":[{"shape":[2],"encrypted":false,"data":${deep}}]}`, params, []);
  expectTooDeep(() => c.server.run(request, undefined), "CircuitServer.run");
  c.client.keygen();
  expectTooDeep(() => c.client.decrypt(request), "CircuitClient.decrypt");
  // Strings holding brackets do not count; the limit itself is accepted.
  const ok = bundleWithJson(SERVER_TYPE, `["[[[[${"[".repeat(100)}\\"]",${nested(MAX_JSON_DEPTH - 1)}]`, params, [paramsPart]);
  assert.equal((deserializeBundle(ok, SERVER_TYPE, null).json as unknown[]).length, 2);
  expectTooDeep(() => deserializeBundle(bundleWithJson(SERVER_TYPE, nested(MAX_JSON_DEPTH + 1), params, [paramsPart]), SERVER_TYPE, null), "one past the limit");
  // The encoder refuses what the decoder would (a RangeError naming the limit, before JSON.stringify recurses).
  let value: unknown = 0;
  for (let i = 0; i < 5000; i++) value = [value];
  assert.throws(() => serializeBundle({ type: SERVER_TYPE, json: value, parts: [] }, params), /nests deeper than 64 levels/);
});
