// Test vector files (test/vectors/<name>), found from the compiled test's directory or the working
// directory, walking up: the tests run from dist/test, the files stay in the source tree.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function vectorFile(name: string): string {
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      const p = join(dir, "test", "vectors", name);
      if (existsSync(p)) return p;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`test vector file ${name} not found`);
}
