// Builds the browser client into dist/browser/ (after tsc): umbra/client as an ES module
// (umbra-client.js), the key generation worker (keygen-worker.js), their shared chunk (the core, with the
// WebAssembly kernels embedded), and the minimal page `umbra serve` shows at / (page/index.html). Prints the sizes; fails
// if the bundle imports a Node built-in.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/browser");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const r = await build({
  entryPoints: { "umbra-client": join(root, "dist/src/client/index.js"), "keygen-worker": join(root, "dist/src/client/keygen-worker.js") },
  bundle: true, splitting: true, format: "esm", platform: "browser", target: "es2022", minify: true, sourcemap: false,
  outdir: out, entryNames: "[name]", chunkNames: "chunk-[hash]", metafile: true, logLevel: "warning",
});
const nodeImports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((m) => m.path)).filter((p) => p.startsWith("node:"));
if (nodeImports.length > 0) {
  console.error(`build-browser: the browser client imports Node built-ins: ${[...new Set(nodeImports)].join(", ")}`);
  process.exit(1);
}
mkdirSync(join(out, "page"));
copyFileSync(join(root, "src/client/page/index.html"), join(out, "page/index.html"));

let raw = 0, gz = 0;
for (const f of readdirSync(out).filter((f) => f.endsWith(".js"))) {
  const b = readFileSync(join(out, f));
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
console.log(`browser client: dist/browser, ${(raw / 1024).toFixed(0)} kB minified, ${(gz / 1024).toFixed(0)} kB gzip (WebAssembly kernels included)`);
