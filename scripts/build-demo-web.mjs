// Builds the demo page into dist/demo-web/ (after tsc): the page's script bundled with the demo's clear
// code (filters, symptom names) by esbuild, next to index.html and style.css. The browser client itself
// is not bundled here: the page loads it from /browser/, where `umbra serve` publishes it with its
// key-generation worker. Fails if the page's bundle imports a Node built-in.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/demo-web");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const r = await build({
  entryPoints: [join(root, "dist/src/demos/web/app.js")],
  bundle: true, format: "esm", platform: "browser", target: "es2022", minify: true, outfile: join(out, "app.js"),
  external: ["/browser/*"], metafile: true, logLevel: "warning",
});
const nodeImports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((m) => m.path)).filter((p) => p.startsWith("node:"));
if (nodeImports.length > 0) {
  console.error(`build-demo-web: the page imports Node built-ins: ${[...new Set(nodeImports)].join(", ")}`);
  process.exit(1);
}
for (const f of ["index.html", "style.css"]) copyFileSync(join(root, "src/demos/web", f), join(out, f));
const js = readFileSync(join(out, "app.js"));
console.log(`demo page: dist/demo-web, app.js ${(js.length / 1024).toFixed(0)} kB minified, ${(gzipSync(js).length / 1024).toFixed(0)} kB gzip`);
