// The README's ML example, run exactly as written: the ```ts block of its "ML (umbra/ml)" section is written
// into the package (so that "umbra/ml" resolves to this build through the package's exports) and run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

test("README ML example: clear and FHE predictions as the comments say", () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## ML (`umbra/ml`)"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined && block.includes('from "umbra/ml"'), "the README's ML section has its example");
  const file = `${root}dist/test/ml/readme-example-snippet.mjs`;
  writeFileSync(file, block);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: "utf8", cwd: root, timeout: 120_000 });
    const lines = out.split("\n");
    assert.equal(lines[0], "[ 'yes', 'no' ]");
    assert.equal(lines[1], "[ 'yes', 'no' ]");
    assert.equal(lines[2], "[ [ 0, 1 ] ]");
    assert.match(out, /DecisionTreeClassifier: 1 tree\(s\)/);
    assert.match(out, /parameters: /);
  } finally {
    rmSync(file, { force: true });
  }
});
