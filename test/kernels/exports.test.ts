// The TypeScript view of the kernel module (KernelExports, listed at run time as KERNEL_EXPORTS; the
// compiler checks that those two agree) against the compiled module itself: a kernel renamed, removed,
// added without a declaration, or given another parameter count fails here rather than at a call site.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KERNEL_EXPORTS, kernelModule, kernels } from "../../src/kernels/wasm.js";

// What AssemblyScript adds with --exportRuntime (scripts/build-kernels.mjs); the TypeScript side never calls it.
const RUNTIME_EXPORTS = new Map([["__new", "function"], ["__pin", "function"], ["__unpin", "function"],
  ["__collect", "function"], ["__rtti_base", "global"]]);

const declared = new Map(Object.entries(KERNEL_EXPORTS));

test("every declared kernel export exists in the module with its kind", () => {
  const actual = new Map(WebAssembly.Module.exports(kernelModule()).map((e) => [e.name, e.kind]));
  for (const [name, kind] of declared) {
    assert.equal(actual.get(name), kind === "memory" ? "memory" : "function", `export "${name}"`);
  }
});

test("the module exports nothing undeclared besides the AssemblyScript runtime", () => {
  for (const { name, kind } of WebAssembly.Module.exports(kernelModule())) {
    if (declared.has(name)) continue;
    assert.equal(RUNTIME_EXPORTS.get(name), kind, `export "${name}" (${kind}) is missing from KernelExports`);
  }
});

test("every declared function has the module's parameter count", () => {
  const instance = new WebAssembly.Instance(kernelModule(), {
    env: { abort: () => { throw new Error("abort"); }, seed: () => 0 },
  });
  for (const [name, kind] of declared) {
    if (kind === "memory") continue;
    // A WebAssembly function's `length` is the number of parameters of its type.
    const f = instance.exports[name] as (...args: unknown[]) => unknown;
    assert.equal(f.length, kind, `"${name}" takes ${f.length} parameters, KernelExports declares ${kind}`);
  }
});

test("the wrapped exports keep every declared name and arity", () => {
  const k = kernels().k as unknown as Record<string, unknown>;
  for (const [name, kind] of declared) {
    if (kind === "memory") {
      assert.ok(k[name] instanceof WebAssembly.Memory, name);
      continue;
    }
    assert.equal(typeof k[name], "function", name);
    assert.equal((k[name] as (...args: unknown[]) => unknown).length, kind, `wrapped "${name}"`);
  }
});
