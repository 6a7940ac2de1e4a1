// The deployment commands: `umbra compile` (model JSON → bundles), `umbra serve` (the HTTP server),
// `umbra keygen` (a client key for a model's parameters) and `umbra predict` (encrypt rows, send them,
// decrypt the predictions). The secret key never leaves the client's process or the file it is told.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type * as Ml from "../ml/index.js";
import { csvText, readCsv } from "./csv.js";
import { PhaseStatus, ProgressBar, withStatus } from "./progress.js";

// Loaded on use: `umbra params` and friends need neither the server nor the models.
const deploy = () => import("../deploy/index.js");

type Restorable = { compile(X?: Ml.MatrixLike, o?: Ml.MlCompileOptions): unknown; deployment(): Ml.Deployment };

// The umbra/ml models whose toJSON `umbra compile` reads (those with a deployment()).
const fromJsonTable = (ml: typeof Ml): Record<string, (j: never) => Restorable> => ({
  LinearRegression: ml.LinearRegression.fromJSON, Ridge: ml.Ridge.fromJSON, Lasso: ml.Lasso.fromJSON, ElasticNet: ml.ElasticNet.fromJSON,
  LinearSVR: ml.LinearSVR.fromJSON, PoissonRegressor: ml.PoissonRegressor.fromJSON, GammaRegressor: ml.GammaRegressor.fromJSON,
  LogisticRegression: ml.LogisticRegression.fromJSON, LinearSVC: ml.LinearSVC.fromJSON,
  DecisionTreeClassifier: ml.DecisionTreeClassifier.fromJSON, DecisionTreeRegressor: ml.DecisionTreeRegressor.fromJSON,
  RandomForestClassifier: ml.RandomForestClassifier.fromJSON, RandomForestRegressor: ml.RandomForestRegressor.fromJSON,
  XGBClassifier: ml.XGBClassifier.fromJSON, XGBRegressor: ml.XGBRegressor.fromJSON, XGBoostModel: ml.XGBoostModel.fromJSON,
  NeuralNetClassifier: ml.NeuralNetClassifier.fromJSON, NeuralNetRegressor: ml.NeuralNetRegressor.fromJSON,
});

/** A compiled model from an umbra/ml toJSON or an XGBoost JSON dump; calibration rows compile it if given. */
export async function modelFromJson(json: unknown, calibration: number[][] | undefined, opts: Ml.MlCompileOptions = {}): Promise<Restorable> {
  const ml = await import("../ml/index.js");
  const FROM_JSON = fromJsonTable(ml);
  const j = json as { format?: unknown; model?: unknown; learner?: unknown } | null;
  if (j?.format === "umbra-ml") {
    const restore = FROM_JSON[String(j.model)];
    if (restore === undefined) throw new Error(`model ${String(j.model)}: not deployable by umbra compile (expected one of ${Object.keys(FROM_JSON).join(", ")})`);
    const m = restore(j as never);
    if (calibration !== undefined || Object.keys(opts).length > 0) m.compile(calibration, opts);
    return m;
  }
  if (typeof j?.learner === "object") return ml.importXGBoost(j as object).compile(calibration, opts);
  throw new Error("expected an umbra/ml model's toJSON (format \"umbra-ml\") or an XGBoost JSON model (with a \"learner\")");
}

/**
 * A compiled model from a file: an ONNX model (`.onnx`, quantized on the calibration rows when it is a
 * network or a linear model), or a JSON model as `modelFromJson` reads it.
 */
export async function modelFromFile(path: string, calibration: number[][] | undefined, opts: Ml.MlCompileOptions = {}, ptq: Ml.OnnxCompileOptions = {}): Promise<Restorable> {
  const bytes = readFileSync(path);
  const hasPtq = Object.keys(ptq).length > 0;
  if (path.toLowerCase().endsWith(".onnx")) {
    const ml = await import("../ml/index.js");
    // External tensor data lives in files beside the model; a location may not leave its directory.
    const externalData = (location: string): Uint8Array => {
      if (isAbsolute(location) || normalize(location).split(/[\\/]/).includes("..")) throw new Error(`${basename(path)}: external data location ${JSON.stringify(location)} is outside the model's directory`);
      const b = readFileSync(join(dirname(path), location));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    };
    const model = ml.importOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { externalData });
    if (model instanceof ml.OnnxModel || model instanceof ml.OnnxTensorModel) {
      if (calibration === undefined) throw new Error(`${basename(path)}: an ONNX network is quantized after training: pass --calibration <csv> with representative rows`);
      return model.compile(calibration, { ...ptq, ...opts });
    }
    if (hasPtq) throw new Error(`${basename(path)}: the quantization options (--input-bits, --weight-bits, --activation-bits, --rounding-bits, --exact-rounding) apply to ONNX networks; this model has no network layers`);
    return model.compile(calibration, opts);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    // XGBoost's binary format: the importer says what to do instead.
    if (bytes[0] === 0x7b && bytes[1] !== undefined && "UiIlL#$".includes(String.fromCharCode(bytes[1]))) (await import("../ml/index.js")).importXGBoost(new Uint8Array(bytes));
    throw new Error(`${basename(path)}: not JSON (${(e as Error).message}); an ONNX model must be named *.onnx`);
  }
  if (hasPtq) throw new Error(`${basename(path)}: the quantization options (--input-bits, --weight-bits, --activation-bits, --rounding-bits, --exact-rounding) apply to ONNX networks only`);
  return modelFromJson(json, calibration, opts);
}

/** A positive integer option, or a clear error naming it. */
function positive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} ${JSON.stringify(v)}: expected a positive integer`);
  return n;
}

const fail = (program: Command, e: unknown): never => program.error(`umbra: ${(e as Error).message}`, { exitCode: 1 });

/**
 * The tail of a long-running command (`serve`, `worker`): say it is up (one JSON line with --json, else a
 * sentence), then run until SIGINT or SIGTERM, which close it before the process exits.
 */
function runUntilSignal(service: { close(): Promise<void> }, json: boolean | undefined, summary: object, text: string): void {
  console.log(json ? JSON.stringify(summary) : text);
  const stop = (): void => { void service.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** The browser client bundle (dist/browser, built by scripts/build-browser.mjs) at /browser/, and a page at /. */
function webDirs(page: string | undefined): { dir: string; at: string }[] {
  const client = fileURLToPath(new URL("../../browser/", import.meta.url));
  if (!existsSync(join(client, "umbra-client.js"))) {
    if (page !== undefined) throw new Error(`--web: the browser client is not built (${client}; run npm run build)`);
    return [];
  }
  return [{ dir: client, at: "/browser/" }, { dir: page ?? join(client, "page"), at: "/" }];
}

export function addDeployCommands(program: Command): void {
  program.command("compile <model>").description("compile an umbra/ml model (its toJSON), an XGBoost JSON model or an ONNX model (*.onnx) into client and server bundles")
    .requiredOption("--out <dir>", "the bundle directory (created)")
    .option("--calibration <csv>", "rows to calibrate the quantization on (feature columns only, header optional)")
    .option("--id <id>", "the model's id on a server (default: the directory's name)")
    .option("--batch-size <n>", "rows per encrypted run")
    .option("--multi-parameter", "give lookups of different widths their own parameter sets where that is cheaper (clients then upload one key bundle for all of them)")
    .option("--input-bits <n>", "ONNX networks: bits of each quantized input feature (default 8)")
    .option("--weight-bits <n>", "ONNX networks: bits of the weights (default 6; 8 for linear layers)")
    .option("--activation-bits <n>", "ONNX networks: bits of each hidden activation (default 4)")
    .option("--rounding-bits <n>", "ONNX networks: bits each lookup reads of its accumulator (default 6; fewer: smaller keys, faster, coarser)")
    .option("--exact-rounding", "ONNX networks: round accumulators exactly before lookups (bit extraction: more PBS; FHE then equals the quantized model on every row)")
    .option("--json", "print the bundle summary as JSON")
    .action(async (path: string, o: {
      out: string; calibration?: string; id?: string; batchSize?: string; multiParameter?: boolean; json?: boolean;
      inputBits?: string; weightBits?: string; activationBits?: string; roundingBits?: string; exactRounding?: boolean;
    }) => {
      try {
        const calibration = o.calibration === undefined ? undefined : readCsv(o.calibration).rows;
        const bits = (v: string | undefined, name: string): number | undefined => (v === undefined ? undefined : positive(v, name));
        const nBits = { inputs: bits(o.inputBits, "--input-bits"), weights: bits(o.weightBits, "--weight-bits"), activations: bits(o.activationBits, "--activation-bits") };
        const roundingBits = bits(o.roundingBits, "--rounding-bits");
        const ptq: Ml.OnnxCompileOptions = {
          ...(Object.values(nBits).some((v) => v !== undefined) ? { nBits: Object.fromEntries(Object.entries(nBits).filter(([, v]) => v !== undefined)) } : {}),
          ...(roundingBits !== undefined || o.exactRounding === true ? {
            roundingThresholdBits: {
              bits: roundingBits ?? (await import("../ml/index.js")).ONNX_PTQ_DEFAULTS.roundingThresholdBits,
              method: o.exactRounding === true ? "exact" as const : "approximate" as const,
            },
          } : {}),
        };
        const model = await modelFromFile(path, calibration, {
          ...(o.batchSize === undefined ? {} : { batchSize: Number(o.batchSize) }), ...(o.multiParameter === true ? { multiParameter: true } : {}),
        }, ptq);
        const b = await (await deploy()).ModelDev.save(model, o.out, { id: o.id ?? basename(o.out) });
        const summary = { id: b.id, kind: b.kind, fingerprint: b.fingerprint, parameters: b.parameters, linearOnly: b.linearOnly, out: o.out };
        console.log(o.json ? JSON.stringify(summary) : `compiled ${path} → ${o.out}: model ${b.id}, parameters ${b.parameters}, ${b.linearOnly ? "no lookups (no evaluation keys)" : "lookups (clients upload evaluation keys)"}, fingerprint ${b.fingerprint.slice(0, 16)}…`);
      } catch (e) {
        fail(program, e);
      }
    });

  program.command("serve <dir>").description("serve the model bundles in <dir> (one bundle, or one per subdirectory) over HTTP")
    .option("--port <n>", "port (0: a free one)", "8080")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--keys-dir <dir>", "where uploaded evaluation keys are kept (default: <dir>/.keys)")
    .option("--redis <url>", "scale out: predictions go on a BullMQ queue in this Redis for `umbra worker` processes, keys to the Redis key store (redis://host:port[/db])")
    .option("--redis-prefix <prefix>", "prefix of every Redis key (servers and workers of one deployment share it)", "umbra")
    .option("--timeout <seconds>", "with --redis: answer 504 when no worker has finished a prediction after this long", "600")
    .option("--auth-token <token>", "require Authorization: Bearer <token> on every route but /health (or set UMBRA_AUTH_TOKEN)")
    .option("--max-request-bytes <n>", "largest prediction request", String(64 * 2 ** 20))
    .option("--max-key-bytes <n>", "largest evaluation-key upload", String(2 ** 30))
    .option("--threads <n>", "worker threads per key set (default: the cores)")
    .option("--log", "log requests (pino JSON lines on stderr; bodies and tokens never logged)")
    .option("--json", "print { url, models, redis } as one JSON line once listening")
    .option("--web <dir>", "a web page's directory, served at / (default: the browser client's minimal page)")
    .option("--no-web", "serve no page and no browser client")
    .action(async (dir: string, o: {
      port: string; host: string; keysDir?: string; redis?: string; redisPrefix: string; timeout: string; authToken?: string; maxRequestBytes: string; maxKeyBytes: string;
      threads?: string; log?: boolean; web?: string | false; json?: boolean;
    }) => {
      try {
        if (o.redis !== undefined && o.keysDir !== undefined) throw new Error("--keys-dir and --redis: keys live in Redis when the server scales out; pass one");
        const timeoutMs = positive(o.timeout, "--timeout") * 1000;
        const server = await (await deploy()).createServer({
          staticDirs: o.web === false ? [] : webDirs(o.web),
          modelsDir: dir, authToken: o.authToken ?? process.env.UMBRA_AUTH_TOKEN,
          ...(o.redis === undefined ? { keysDir: o.keysDir ?? `${dir.replace(/[\\/]+$/, "")}/.keys` } : { redis: { url: o.redis, prefix: o.redisPrefix, timeoutMs, payloadTtlMs: timeoutMs } }),
          limits: { requestBytes: Number(o.maxRequestBytes), keyBytes: Number(o.maxKeyBytes), ...(o.threads === undefined ? {} : { threads: Number(o.threads) }) },
          logger: o.log === true ? { level: "info", stream: process.stderr } : false,
        });
        const url = await server.listen({ port: Number(o.port), host: o.host });
        const page = server.app.hasRoute({ method: "GET", url: "/" }) ? `${url}/` : undefined;
        // --json: exactly one JSON line on stdout (the page's address is one of its fields).
        runUntilSignal(server, o.json, { url, models: [...server.models.keys()], redis: o.redis !== undefined, ...(page === undefined ? {} : { page }) },
          `umbra: serving ${[...server.models.keys()].join(", ")} at ${url}${o.redis === undefined ? "" : " (predictions on the Redis queue for umbra worker processes)"}` +
          (page === undefined ? "" : `\numbra: the browser page is at ${page}`));
      } catch (e) {
        fail(program, e);
      }
    });

  program.command("worker").description("take predictions off the Redis queue that `umbra serve --redis` fills (run any number, on any machine)")
    .requiredOption("--redis <url>", "the Redis the servers use (redis://host:port[/db])")
    .option("--redis-prefix <prefix>", "prefix of every Redis key (as the servers')", "umbra")
    .option("--models <dir>", "local model bundles (default: the bundles the servers publish in Redis)")
    .option("--concurrency <n>", "jobs at once (each gets the worker pool)", "1")
    .option("--threads <n>", "worker threads per key set (default: the cores)")
    .option("--loaded-keys <n>", "key sets kept decoded in memory", "4")
    .option("--lock-ms <ms>", "a job's lock, renewed while it runs; a dead worker's job is retried once it lapses", "30000")
    .option("--stalled-ms <ms>", "how often to look for the jobs of dead workers", "15000")
    .option("--quiet", "no log lines (by default: one JSON line per job on stderr, never a payload or key)")
    .option("--json", "print { pid, models } as one JSON line once taking jobs")
    .action(async (o: { redis: string; redisPrefix: string; models?: string; concurrency: string; threads?: string; loadedKeys: string; lockMs: string; stalledMs: string; quiet?: boolean; json?: boolean }) => {
      try {
        const { startWorker } = await import("../deploy/redis-index.js");
        const log = o.quiet === true ? undefined : (e: Record<string, unknown>): void => { process.stderr.write(JSON.stringify({ time: Date.now(), pid: process.pid, ...e }) + "\n"); };
        const worker = await startWorker({
          url: o.redis, prefix: o.redisPrefix, ...(o.models === undefined ? {} : { modelsDir: o.models }),
          concurrency: positive(o.concurrency, "--concurrency"), loadedKeys: positive(o.loadedKeys, "--loaded-keys"),
          ...(o.threads === undefined ? {} : { threads: positive(o.threads, "--threads") }),
          lockDurationMs: positive(o.lockMs, "--lock-ms"), stalledIntervalMs: positive(o.stalledMs, "--stalled-ms"), ...(log === undefined ? {} : { log }),
        });
        runUntilSignal(worker, o.json, { pid: process.pid, models: [...worker.models.keys()] },
          `umbra: worker ${process.pid} taking predictions from the Redis queue${worker.models.size > 0 ? ` (local models: ${[...worker.models.keys()].join(", ")})` : ""}`);
      } catch (e) {
        fail(program, e);
      }
    });

  program.command("keygen").description("make a client (secret) key for a model's parameters and save it; it never leaves this machine")
    .requiredOption("--out <file>", "where to write the secret key (mode 0600)")
    .option("--bundle <dir>", "a local bundle directory")
    .option("--server <url>", "a server (with --model)")
    .option("--model <id>", "the model's id on the server")
    .option("--auth-token <token>", "the server's bearer token")
    .option("--json", "print { out, parameters, ms } as JSON")
    .option("--quiet", "print nothing (no progress either)")
    .action(async (o: { out: string; bundle?: string; server?: string; model?: string; authToken?: string; json?: boolean; quiet?: boolean }) => {
      try {
        const { ModelClient, RemoteServer } = await deploy();
        if ((o.bundle === undefined) === (o.server === undefined || o.model === undefined)) throw new Error("pass --bundle <dir>, or --server <url> and --model <id>");
        const client = o.bundle !== undefined ? await ModelClient.load(o.bundle) : await new RemoteServer(o.server!, { authToken: o.authToken }).client(o.model!);
        // A multi-parameter model's key file holds one secret key per partition ("A + B").
        const names = client.bundle.parameters;
        const { ms } = withStatus(`keygen (${names})`, () => client.keygen(), o);
        await client.saveKey(o.out);
        if (o.json) console.log(JSON.stringify({ out: o.out, parameters: names, ms: Math.round(ms) }));
        else if (!o.quiet) console.log(`key for parameters ${names} written to ${o.out} in ${ms.toFixed(0)} ms`);
      } catch (e) {
        fail(program, e);
      }
    });

  program.command("predict").description("encrypt rows, have a server predict on them, decrypt; the last column of the output CSV is the prediction")
    .requiredOption("--server <url>", "the server's URL")
    .requiredOption("--model <id>", "the model's id")
    .requiredOption("--input <csv>", "rows (feature columns only, header optional)")
    .option("--out <csv>", "output CSV (default: stdout)")
    .option("--key <file>", "a client key to reuse, or to create if absent; its uploaded key ids are remembered next to it")
    .option("--auth-token <token>", "the server's bearer token (or set UMBRA_AUTH_TOKEN)")
    .option("--rows-per-request <n>", "rows sent in one request (more rows go in several)", "256")
    .option("--json", "print a summary as JSON on stderr (no progress bars)")
    .option("--quiet", "no summary and no progress bars")
    .action(async (o: { server: string; model: string; input: string; out?: string; key?: string; authToken?: string; rowsPerRequest: string; json?: boolean; quiet?: boolean }) => {
      try {
        const { KeyFileStore, RemoteModel } = await deploy();
        const perRequest = positive(o.rowsPerRequest, "--rows-per-request");
        const { header, rows } = readCsv(o.input);
        // Keygen and the key upload report their phases (a status line); the rows a bar, request by request.
        const status = new PhaseStatus(o);
        const remote = await RemoteModel.connect(o.server, o.model, {
          authToken: o.authToken ?? process.env.UMBRA_AUTH_TOKEN, ...(o.key === undefined ? {} : { keyStore: new KeyFileStore(o.key) }),
          onProgress: (e) => status.event(e.phase, e.state),
        });
        status.done();
        // A circuit takes one sample (its arguments); a model's rows go in requests of perRequest rows.
        const chunks = remote.client.kind === "model" ? Array.from({ length: Math.ceil(rows.length / perRequest) }, (_, i) => rows.slice(i * perRequest, (i + 1) * perRequest)) : [rows];
        const bar = new ProgressBar(`predicting with ${o.model}`, rows.length, "rows", o);
        const predictions: unknown[] = [];
        let requestBytes = 0, responseBytes = 0, encryptMs = 0, serverMs = 0, decryptMs = 0;
        for (const chunk of chunks) {
          predictions.push(...(await remote.predict(chunk) as unknown[]));
          const last = remote.lastPrediction!;
          requestBytes += last.requestBytes; responseBytes += last.responseBytes;
          encryptMs += last.encryptMs; serverMs += last.serverMs; decryptMs += last.decryptMs;
          bar.update(predictions.length);
        }
        bar.finish();
        const uploaded = remote.keys.uploads > 0;
        const text = csvText(header === undefined ? undefined : [...header, "prediction"], rows.map((r, i) => [...r, predictions[i]]));
        if (o.out === undefined) process.stdout.write(text);
        else writeFileSync(o.out, text);
        const summary = { model: o.model, rows: rows.length, requests: chunks.length, requestBytes, responseBytes, keysUploaded: uploaded, ms: Math.round(encryptMs + serverMs + decryptMs) };
        if (o.json) console.error(JSON.stringify(summary));
        else if (o.out !== undefined && !o.quiet) {
          console.error(`predicted ${rows.length} rows with ${o.model} in ${summary.ms} ms (${chunks.length} request${chunks.length === 1 ? "" : "s"}, ${requestBytes} bytes up, ${responseBytes} bytes down${uploaded ? ", evaluation keys uploaded" : ""}) → ${o.out}`);
        }
      } catch (e) {
        fail(program, e);
      }
    });
}
