// `umbra demo`: a real encrypted computation end to end — keygen, encryption on the "client",
// homomorphic dot product + programmable bootstrapping on the "server" (evaluation keys only), decryption.
import { ClientKey, ServerKey, PARAM_MESSAGE_4, add, mulScalar, checkSecurity, pbsFailureProbability } from "../tfhe/index.js";

export interface DemoOptions {
  readonly log?: (line: string) => void;
}

export function runDemo({ log = console.log }: DemoOptions = {}): { ok: boolean } {
  const params = PARAM_MESSAGE_4;
  const sec = checkSecurity(params);
  const pf = pbsFailureProbability(params);
  log(`parameters ${params.name}: n=${params.lweDimension}, k=${params.glweDimension}, N=${params.polynomialSize}; ` +
    `security ≥ ${Math.floor(Math.min(sec.lwe.bits, sec.glwe.bits))} bits; p_fail per PBS ≈ 2^${pf.log2.toFixed(1)}`);

  let t = performance.now();
  const client = ClientKey.generate(params);
  const evalKeys = client.evaluationKeys();
  log(`client: secret keys + evaluation keys in ${(performance.now() - t).toFixed(0)} ms`);

  const x = [3, 1, 2, 0], y = [2, 3, 1, 3];
  const cx = client.encrypt(x), cy = client.encrypt(y);
  log(`client: encrypted x = [${x}] and y = [${y}] (4-bit messages)`);

  t = performance.now();
  const server = new ServerKey(evalKeys);
  log(`server: loaded evaluation keys (Fourier BSK) in ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  const lin = add(mulScalar(cx, 2), cy);                    // 2x + y, no bootstrapping
  const f = (v: number) => (v * v) % 16;                    // any function as a lookup table
  const out = server.apply(lin, f);
  const ms = performance.now() - t;
  log(`server: (2x + y)² mod 16 on ciphertexts with ${x.length} PBS in ${ms.toFixed(0)} ms (${(ms / x.length).toFixed(1)} ms/PBS)`);

  const got = Array.from(client.decrypt(out));
  const want = x.map((xi, i) => f(2 * xi + y[i]!));
  log(`client: decrypted [${got}], expected [${want}]`);
  server.free();
  const ok = got.every((v, i) => v === want[i]);
  log(ok ? "OK: the encrypted result matches the clear computation" : "MISMATCH");
  return { ok };
}
