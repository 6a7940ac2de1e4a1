// A compiled circuit run the way it is deployed: client and server halves decoded from their bytes, fresh
// keys made by the client, and only the evaluation keys' bytes given to the server.
import { type Circuit, CircuitClient, CircuitServer, type Tensor, type TensorLike } from "../../src/compiler/index.js";

/** The circuit's outputs on `inputs` through its deployed halves (the server's key is freed after). */
export function deployedRun(c: Circuit, ...inputs: readonly (TensorLike | Tensor)[]): Tensor[] {
  const client = CircuitClient.deserialize(c.client.serialize());
  const server = CircuitServer.deserialize(c.server.serialize());
  client.keygen();
  const keys = server.loadKeys(client.serializedEvaluationKeys()!);
  try {
    return client.decrypt(server.run(client.encrypt(...inputs), keys));
  } finally {
    keys?.free();
  }
}

/** deployedRun's outputs, each flattened to its values. */
export function deployed(c: Circuit, ...inputs: readonly (TensorLike | Tensor)[]): number[][] {
  return deployedRun(c, ...inputs).map((t) => Array.from(t.data));
}
