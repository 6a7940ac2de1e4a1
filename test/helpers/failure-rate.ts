// The measured PBS failure rate at a deliberately noisy test setting against the noise model's prediction:
// the identity lookup on `trials` random 2-bit messages, and the count of wrong decryptions within 4.5
// binomial standard deviations of trials·p_fail.
import assert from "node:assert/strict";
import {
  ClientKey, pbsKeyswitchVariance, pbsModulusSwitchVariance, pFail, ServerKey, type TfheParameters,
} from "../../src/tfhe/index.js";
import { testRng } from "./keys.js";

export function checkFailureRate(noisy: TfheParameters, seed: number, what: string, trials = 2000): void {
  const client = ClientKey.generate(noisy);
  const server = new ServerKey(client.evaluationKeys());
  try {
    const p = 4;
    const v = noisy.glweNoiseStd ** 2 + pbsKeyswitchVariance(noisy) + pbsModulusSwitchVariance(noisy);
    const predicted = pFail(v, p).probability;
    assert.ok(predicted > 0.03 && predicted < 0.3, `${what}: setting should be noisy, predicted ${predicted}`);
    const rng = testRng(seed);
    const m = Array.from({ length: trials }, () => Math.floor(rng() * p));
    const got = client.decrypt(server.apply(client.encrypt(m), (x) => x));
    let failures = 0;
    for (let i = 0; i < trials; i++) if (got[i] !== m[i]) failures++;
    const sd = Math.sqrt(trials * predicted * (1 - predicted));
    assert.ok(Math.abs(failures - trials * predicted) <= 4.5 * sd,
      `${what}: failures ${failures}/${trials}, predicted ${(trials * predicted).toFixed(1)} ± ${sd.toFixed(1)}`);
  } finally {
    server.free();
  }
}
