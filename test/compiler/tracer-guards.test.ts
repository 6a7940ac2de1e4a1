// Mistakes that used to trace silently into a wrong circuit: assigning into a traced value, an array passed
// to index() (read as a range), and a tracer used as a primitive (comparison operators, arithmetic, strings).
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphError, type Tracer, evaluate, toNested, trace } from "../../src/compiler/index.js";

const run = (fn: (x: Tracer) => Tracer, x: number[]) => toNested(evaluate(trace(fn, { x: "encrypted" }, { x: [x.length] }), [x])[0]!);

test("assigning into a traced value throws a GraphError pointing to at(…).set, in strict and sloppy code", () => {
  assert.throws(() => run((x) => {
    const y = x.mul(2);
    (y as unknown as Record<number, Tracer>)[1] = x.sum();
    return y;
  }, [1, 2, 3]), (e: unknown) => e instanceof GraphError && /cannot assign into a traced value/.test(e.message) && /y\.at\(1\)\.set\(v\)/.test(e.message));
  // Function() bodies are sloppy mode, where a write to a frozen or non-extensible object is silently dropped.
  const sloppyAssign = new Function("y", "v", "y[0] = v; return y;") as (y: Tracer, v: Tracer) => Tracer;
  assert.throws(() => run((x) => sloppyAssign(x.add(1), x.sum()), [1, 2]), GraphError);
  // Tracers are frozen: defining a property or overwriting id fails (TypeError from the engine).
  assert.throws(() => run((x) => { Object.defineProperty(x, "foo", { value: 1 }); return x; }, [1]), TypeError);
  assert.throws(() => run((x) => { (x as { id: number }).id = 0; return x; }, [1]), TypeError);
  // A named property that does not exist: the same GraphError as an index.
  assert.throws(() => run((x) => { (x as unknown as Record<string, number>)["foo"] = 1; return x; }, [1]), /cannot assign into a traced value/);
});

test("reading y[i] from a traced value throws a GraphError pointing to index()", () => {
  assert.throws(() => run((x) => (x as unknown as Record<number, Tracer>)[0]!.add(1), [1, 2]),
    (e: unknown) => e instanceof GraphError && /y\[0\] reads nothing/.test(e.message) && /y\.index\(0\)/.test(e.message));
});

test("index() with an array picks those positions (fancy indexing), not a range", () => {
  assert.deepEqual(run((x) => x.index([0, 2]), [10, 20, 30]), [10, 30]);
  assert.deepEqual(run((x) => x.index([2, 0, 2]), [10, 20, 30]), [30, 10, 30]);
});

test("a tracer used as a primitive throws a GraphError pointing to where and gt/lt", () => {
  const isCoercion = (e: unknown) => e instanceof GraphError && /where\(cond, a, b\)/.test(e.message) && /x\.gt\(y\)/.test(e.message);
  const cases: [string, (x: Tracer) => unknown][] = [
    ["x > 1", (x) => (x as unknown as number) > 1],
    ["x <= y", (x) => (x as unknown as number) <= (x.add(1) as unknown as number)],
    ["x + 1", (x) => (x as unknown as number) + 1],
    ["x + ''", (x) => (x as unknown as string) + ""],
    ["template", (x) => `${x as unknown as string}`],
    ["Number(x)", (x) => Number(x)],
    ["x == 1", (x) => (x as unknown) == 1], // eslint-disable-line eqeqeq
    ["x * 2", (x) => (x as unknown as number) * 2],
  ];
  for (const [name, use] of cases) {
    assert.throws(() => run((x) => { use(x); return x; }, [1]), isCoercion, name);
  }
  // Explicit conversion for debugging still works.
  const seen: string[] = [];
  run((x) => { seen.push(x.toString()); return x; }, [1, 2]);
  assert.deepEqual(seen, ["Tracer(%0: encrypted [2])"]);
});
