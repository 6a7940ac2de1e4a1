// The demo's main job: a real encrypted prediction over HTTP. A decision tree is trained on the bundled
// iris data and compiled; its bundles are written; `umbra serve` runs them in a separate process; the
// client (this process) makes keys, uploads the evaluation keys, sends encrypted rows, decrypts the
// answers, and compares them with the clear model. The server never sees a secret key or a clear row.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelDev, RemoteServer } from "../deploy/index.js";
import { DecisionTreeClassifier } from "../ml/index.js";
import { IRIS, IRIS_SPECIES } from "./data/iris.js";

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

/** Starts `umbra serve dir --port 0` and resolves with its URL and a stop function. */
async function startServer(dir: string): Promise<{ url: string; stop: () => void }> {
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const child = spawn(process.execPath, [main, "serve", dir, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`umbra serve exited with code ${code}`)));
  });
  return { url, stop: () => { child.kill("SIGTERM"); } };
}

export async function runPredictionDemo(log: (line: string) => void): Promise<{ ok: boolean }> {
  // Every fifth flower is held out for the encrypted predictions; the rest trains.
  const train = IRIS.filter((_, i) => i % 5 !== 0), test = IRIS.filter((_, i) => i % 5 === 0).slice(0, 12);
  const features = (rows: typeof IRIS) => rows.map((r) => [r[0], r[1], r[2], r[3]]);
  const species = (rows: typeof IRIS) => rows.map((r) => IRIS_SPECIES[r[4]]!);
  let t = performance.now();
  const model = new DecisionTreeClassifier({ maxDepth: 3 }).fit(features(train), species(train)).compile(features(train));
  const s = model.statistics;
  log(`ml: decision tree (depth 3) trained on ${train.length} iris flowers and compiled in ${(performance.now() - t).toFixed(0)} ms; ` +
    `${s.pbsCount} PBS per flower, parameters ${s.parameters.name}`);
  const dir = await mkdtemp(join(tmpdir(), "umbra-demo-"));
  let server: { url: string; stop: () => void } | undefined;
  try {
    await ModelDev.save(model, join(dir, "iris"));
    server = await startServer(dir);
    log(`server: umbra serve (a separate process) at ${server.url}, with the model's server bundle only`);

    const remote = new RemoteServer(server.url);
    const client = await remote.client("iris");
    t = performance.now();
    client.keygen();
    const keys = client.evaluationKeys()!;
    const { keyId } = await remote.uploadKeys(keys);
    log(`client: keys in ${(performance.now() - t).toFixed(0)} ms; evaluation keys uploaded (${mib(keys.length)}); the secret key stays here`);

    const X = features(test);
    t = performance.now();
    const request = client.quantizeEncryptSerialize(X);
    const encryptMs = performance.now() - t;
    t = performance.now();
    const response = await remote.predict("iris", request, keyId);
    const serverMs = performance.now() - t;
    const got = client.deserializeDecryptDequantize(response) as string[];
    log(`client: ${X.length} flowers encrypted in ${encryptMs.toFixed(0)} ms (${kib(request.length)} up); ` +
      `the server predicted on ciphertexts in ${serverMs.toFixed(0)} ms (${kib(response.length)} down)`);
    const clear = await model.predict(X);
    const truth = species(test);
    const agree = got.filter((g, i) => g === clear[i]).length;
    const correct = got.filter((g, i) => g === truth[i]).length;
    log(`client: decrypted [${got.join(", ")}]`);
    log(`ml: encrypted predictions equal the clear model's on ${agree}/${X.length}; ${correct}/${X.length} correct species`);
    return { ok: agree === X.length };
  } finally {
    server?.stop();
    await model.close();
    await rm(dir, { recursive: true, force: true });
  }
}
