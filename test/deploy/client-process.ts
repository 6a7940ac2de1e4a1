// A process of deployment clients for test/deploy/server.test.ts. Each client fetches the model's client
// bundle, makes its own keys (uploading the evaluation keys when the model has lookups) and sends its
// requests, all clients at once; rows are picked per client and request so that answers can be told apart.
//   node client-process.js <json: { url, token, model, rowsFile, clients, requests, rowsPerRequest, firstClient }>
// Prints one JSON line: { results: [{ client, indices, predictions }], keyIds }.
import { readFileSync } from "node:fs";
import { RemoteServer } from "../../src/deploy/index.js";
import type { Tensor } from "../../src/runtime/index.js";
import { indicesOf } from "./helpers.js";

interface Job {
  readonly url: string;
  readonly token: string;
  readonly model: string;
  /** JSON: rows (an ML model's) or samples (a circuit's arguments). */
  readonly rowsFile: string;
  readonly clients: number;
  readonly requests: number;
  readonly rowsPerRequest: number;
  readonly firstClient: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as Job;
  const rows = JSON.parse(readFileSync(job.rowsFile, "utf8")) as number[][];
  const remote = new RemoteServer(job.url, { authToken: job.token });
  const keyIds: string[] = [];
  const results = await Promise.all(Array.from({ length: job.clients }, async (_, i) => {
    const c = job.firstClient + i;
    const client = await remote.client(job.model);
    client.keygen();
    const keyId = client.linearOnly ? undefined : (await remote.uploadKeys(client.evaluationKeys()!)).keyId;
    if (keyId !== undefined) keyIds.push(keyId);
    const out = [];
    for (let r = 0; r < job.requests; r++) {
      const indices = indicesOf(c, r, job.rowsPerRequest, rows.length);
      const X = indices.map((k) => rows[k]!);
      // A circuit takes one sample per request (its argument); a model takes rows.
      const body = client.kind === "model" ? client.quantizeEncryptSerialize(X) : client.quantizeEncryptSerialize([X[0]!]);
      const predictions = client.deserializeDecryptDequantize(await remote.predict(job.model, body, keyId));
      out.push({ client: c, indices, predictions: client.kind === "model" ? predictions : (predictions as Tensor[]).map((t) => Array.from(t.data)) });
    }
    return out;
  }));
  process.stdout.write(JSON.stringify({ results: results.flat(), keyIds }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
  process.exit(1);
});
