// The `umbra` command: `params` and `demo` (what `npm start` runs) as a user sees them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

test("umbra params --json lists every named set as secure with p_fail ≤ 2^-64", () => {
  const rows = execFileSync(process.execPath, [cli, "params", "--json"], { encoding: "utf8" }).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.length, 8);
  rows.forEach((r, i) => {
    assert.equal(r.bits, i + 1);
    assert.ok(r.securityBits >= 128, `${r.name}: ${r.securityBits} bits`);
    assert.ok(r.log2PFail <= -64, `${r.name}: log2 p_fail ${r.log2PFail}`);
  });
});

test("umbra demo runs real encrypted computations and an encrypted prediction over HTTP, and checks them", () => {
  const out = execFileSync(process.execPath, [cli, "demo", "--exit"], { encoding: "utf8" });
  assert.match(out, /OK: the encrypted results match the clear computation/);
  assert.match(out, /core: the encrypted result matches/);
  assert.match(out, /compiler: score = relu.*compiled in \d+ ms/);
  assert.match(out, /client: score (\d+), approved (yes|no) \(clear: \1, \2\)/);
  assert.match(out, /security ≥ 1[2-9]\d bits/);
  // The main job: an encrypted prediction over HTTP against a separate server process.
  assert.match(out, /server: umbra serve \(a separate process\) at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /ml: encrypted predictions equal the clear model's on (\d+)\/\1; \d+\/\1 correct species/);
  assert.match(out, /OK: the encrypted prediction matches the clear model/);
});

test("umbra with an unknown command fails with a message", () => {
  assert.throws(() => execFileSync(process.execPath, [cli, "nope"], { encoding: "utf8", stdio: "pipe" }), /unknown command/);
});
