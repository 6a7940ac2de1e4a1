// Static files for `umbra serve`: the browser client bundle and a web page, read once at start-up and
// served from memory, each at a route of its own (no path from a request ever reaches the file system).
// They are public (code and markup, no data): the bearer token, if any, guards the API only.
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { FastifyInstance } from "fastify";
import { DeployError } from "./errors.js";

/** The types of the files served; other files in the directories are skipped. */
export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
});

/** A directory served under a URL prefix ("/" or "/name/"). */
export interface StaticDir {
  readonly dir: string;
  readonly at: string;
}

interface StaticFile {
  readonly path: string;
  readonly body: Buffer;
  readonly type: string;
}

const MAX_FILES = 2000;
const MAX_BYTES = 256 * 2 ** 20;

async function collect(dir: string, at: string, out: StaticFile[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory()) {
      await collect(join(dir, e.name), `${at}${e.name}/`, out);
    } else if (e.isFile() && MIME_TYPES[extname(e.name)] !== undefined) {
      if (out.length >= MAX_FILES) throw new DeployError("TOO_MANY_FILES", `${dir}: more than ${MAX_FILES} static files`);
      out.push({ path: `${at}${encodeURIComponent(e.name)}`, body: await readFile(join(dir, e.name)), type: MIME_TYPES[extname(e.name)]! });
    }
  }
}

/** Registers the directories' files (index.html also at its directory's path); returns the paths served. */
export async function registerStaticFiles(app: FastifyInstance, dirs: readonly StaticDir[]): Promise<Set<string>> {
  const files: StaticFile[] = [];
  for (const { dir, at } of dirs) {
    if (!/^\/([A-Za-z0-9._-]+\/)*$/.test(at)) throw new DeployError("BAD_STATIC_PREFIX", `static files at ${JSON.stringify(at)}: expected "/" or "/name/"`);
    await collect(dir, at, files);
  }
  if (files.reduce((s, f) => s + f.body.length, 0) > MAX_BYTES) throw new DeployError("TOO_LARGE", `static files: more than ${MAX_BYTES} bytes`);
  const paths = new Set<string>();
  for (const f of files) {
    for (const path of f.path.endsWith("/index.html") ? [f.path, f.path.slice(0, -"index.html".length)] : [f.path]) {
      if (paths.has(path)) continue;
      paths.add(path);
      app.get(path, async (_req, reply) => reply.type(f.type).header("cache-control", "no-cache").header("x-content-type-options", "nosniff").send(f.body));
    }
  }
  return paths;
}
