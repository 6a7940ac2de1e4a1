// A circuit server in its own process, for test/compiler/client-server.test.ts. It reads only what a real
// server receives — the server artifact, the uploaded evaluation keys, the encrypted arguments — from a
// directory, evaluates, and writes the results. It imports the compiler's server side only.
//   node circuit-server-process.js <dir> [threads]
//   <dir>/server.bin, <dir>/keys.bin (absent for lookup-free circuits), <dir>/args.bin → <dir>/result.bin
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CircuitServer } from "../../src/runtime/server.js";

async function main(): Promise<void> {
  const [dir, threadsArg] = process.argv.slice(2);
  if (dir === undefined) throw new Error("usage: circuit-server-process.js <dir> [threads]");
  const files = readdirSync(dir).sort();
  const server = CircuitServer.deserialize(readFileSync(join(dir, "server.bin")));
  const keysPath = join(dir, "keys.bin");
  const args = readFileSync(join(dir, "args.bin"));
  let result: Uint8Array;
  if (threadsArg !== undefined && existsSync(keysPath)) {
    const pool = await server.createPool(readFileSync(keysPath), { threads: Number(threadsArg) });
    try {
      result = await server.runAsync(args, pool);
    } finally {
      await pool.close();
    }
  } else {
    const key = existsSync(keysPath) ? server.loadKeys(readFileSync(keysPath)) : undefined;
    result = server.run(args, key);
    key?.free();
  }
  writeFileSync(join(dir, "result.bin"), result);
  // What the server saw, for the test to check (file names only).
  process.stdout.write(JSON.stringify({ files, pid: process.pid }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
  process.exit(1);
});
