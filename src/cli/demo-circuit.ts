// The second half of `umbra demo`: a function compiled by umbra/compiler, deployed as two artifacts that
// travel as bytes — the client half (parameters, encodings) and the server half (graph and tables, no key)
// — and evaluated by the server with the uploaded evaluation keys only.
import { CircuitClient, CircuitServer, compile, relu, toNested } from "../compiler/index.js";

const W = [2, -1, 3, 1];      // clear weights of a toy score
const THRESHOLD = 6;

export function runCircuitDemo(log: (line: string) => void): { ok: boolean } {
  // Model owner: compile on an inputset covering the feature ranges (4 features in [0, 3]).
  let t = performance.now();
  const inputset = Array.from({ length: 64 }, (_, i) => [[i % 4, (i >> 1) % 4, (i >> 2) % 4, (i >> 4) % 4]]);
  const circuit = compile((x) => {
    const score = relu(x.dot(W).add(-2));
    return [score, score.gt(THRESHOLD)];
  }, { x: "encrypted" }, inputset);
  const stats = circuit.statistics;
  const clientSpec = circuit.client.serialize(), serverSpec = circuit.server.serialize();
  log(`compiler: score = relu(x·w − 2), approved = score > ${THRESHOLD}: compiled in ${(performance.now() - t).toFixed(0)} ms; ` +
    `${stats.bits}-bit message space, ${stats.pbsCount} PBS in ${stats.lookupLayers.length} layers, parameters ${stats.parameters.name}`);
  log(`compiler: client artifact ${clientSpec.length} B, server artifact ${serverSpec.length} B`);

  // Client: keys, evaluation-key upload, encrypted features.
  const client = CircuitClient.deserialize(clientSpec);
  client.keygen();
  const keyBytes = client.serializedEvaluationKeys()!;
  const x = [3, 0, 2, 1];
  const request = client.encrypt(x);
  log(`client: features [${x}] encrypted: ${request.length} B; evaluation keys ${(keyBytes.length / 2 ** 20).toFixed(1)} MiB`);

  // Server: the server artifact, evaluation keys, the request; nothing secret.
  const server = CircuitServer.deserialize(serverSpec);
  const keys = server.loadKeys(keyBytes);
  t = performance.now();
  const response = server.run(request, keys);
  log(`server: evaluated in ${(performance.now() - t).toFixed(0)} ms; response ${(response.length / 1024).toFixed(1)} KiB`);
  keys?.free();

  // Client: decrypt and compare with the clear function.
  const [score, approved] = client.decrypt(response).map(toNested) as [number, number];
  const clear = circuit.runClear(x).map(toNested) as [number, number];
  log(`client: score ${score}, approved ${approved === 1 ? "yes" : "no"} (clear: ${clear[0]}, ${clear[1] === 1 ? "yes" : "no"})`);
  circuit.dispose();
  return { ok: score === clear[0] && approved === clear[1] };
}
