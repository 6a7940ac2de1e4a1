// The prediction queue: first in, first out, `concurrency` at a time; work whose client has gone is
// dropped before it starts; a full queue answers BUSY (503).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeployError, FifoQueue } from "../../src/deploy/index.js";

test("FifoQueue: arrival order, one at a time, cancelled jobs skipped, BUSY when full", async () => {
  const q = new FifoQueue(1, 3);
  const order: string[] = [];
  let running = 0, maxRunning = 0;
  const job = (name: string, ms: number) => async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    order.push(name);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return name;
  };
  let gone = false;
  const a = q.push(job("a", 20));
  const b = q.push(job("b", 1), () => gone);
  const c = q.push(job("c", 1));
  const d = q.push(job("d", 1));
  await assert.rejects(q.push(job("e", 1)), (e: DeployError) => e.code === "BUSY" && e.status === 503);
  gone = true;
  assert.equal(await a, "a");
  await assert.rejects(b, (e: DeployError) => e.code === "CANCELLED");
  assert.deepEqual(await Promise.all([c, d]), ["c", "d"]);
  assert.deepEqual(order, ["a", "c", "d"]);
  assert.equal(maxRunning, 1);
});
