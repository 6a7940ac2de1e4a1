// The repository documents itself: no file of the product, its tests, tools or docs may point to notes
// kept outside the repository, which readers of the package cannot see. Documentation lives in docs/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// Compiled to dist/test/: the repository root is two levels up.
const root = fileURLToPath(new URL("../../", import.meta.url));
const SCANNED = ["src", "test", "bench", "scripts", "docs", "README.md"];
// Built from pieces so that this file does not match itself.
const FORBIDDEN = [["DESIGN", "md"].join("."), ["..", "shared"].join("/")];

function files(path: string, out: string[] = []): string[] {
  const s = statSync(path, { throwIfNoEntry: false });
  if (s === undefined) return out;
  if (s.isFile()) out.push(path);
  else if (s.isDirectory()) for (const f of readdirSync(path)) files(join(path, f), out);
  return out;
}

test("no file under src/, test/, bench/, scripts/, docs/ or the README cites notes outside the repository", () => {
  const scanned = SCANNED.flatMap((p) => files(join(root, p)));
  assert.ok(scanned.length > 100, `only ${scanned.length} files found under ${root}`);
  const hits: string[] = [];
  for (const f of scanned) {
    const lines = readFileSync(f, "utf8").split("\n");
    lines.forEach((line, i) => {
      for (const s of FORBIDDEN) if (line.includes(s)) hits.push(`${relative(root, f)}:${i + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.deepEqual(hits, [], `cite docs/ or the paper instead:\n${hits.join("\n")}`);
});
