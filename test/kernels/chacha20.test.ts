// ChaCha20 kernel: RFC 8439 known answers, agreement with node:crypto (OpenSSL), and the 4-lane tail handling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { kernels } from "../../src/kernels/wasm.js";
import { vectorFile } from "../helpers/vectors.js";

interface BlockVector { name: string; key: string; nonce: string; counter: number; keystream: string }
interface EncryptionVector {
  name: string; key: string; nonce: string; counter: number; plaintext: string; ciphertext: string;
}


const vectors = JSON.parse(readFileSync(vectorFile("chacha20-rfc8439.json"), "utf8")) as {
  blockFunction: BlockVector[];
  encryption: EncryptionVector[];
};

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString("hex");

/** Keystream of the kernel: nBlocks blocks from `counter`, written at byte offset `misalign` of a fresh block. */
function keystream(key: Uint8Array, nonce: Uint8Array, counter: number, nBlocks: number, misalign = 0): Uint8Array {
  const K = kernels();
  const p = K.alloc(64 + nBlocks * 64 + misalign + 64);
  try {
    K.u8(p, 1).set([0]);
    K.u8(p + 1, 32).set(key); // deliberately unaligned key and nonce
    K.u8(p + 33, 12).set(nonce);
    const out = p + 64 + misalign;
    K.k.chacha20Blocks(p + 1, p + 33, counter, out, nBlocks);
    return K.u8(out, nBlocks * 64).slice();
  } finally {
    K.free(p);
  }
}

/** OpenSSL's ChaCha20 keystream (IV = 32-bit little-endian counter ‖ 96-bit nonce). */
function reference(key: Uint8Array, nonce: Uint8Array, counter: number, len: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter >>> 0, 0);
  Buffer.from(nonce).copy(iv, 4);
  return new Uint8Array(createCipheriv("chacha20", key, iv).update(Buffer.alloc(len)));
}

test("RFC 8439 block function vectors (§2.3.2, A.1)", () => {
  assert.ok(vectors.blockFunction.length >= 6);
  for (const v of vectors.blockFunction) {
    const got = keystream(hex(v.key), hex(v.nonce), v.counter, 1);
    assert.equal(toHex(got), v.keystream, v.name);
  }
});

test("RFC 8439 encryption vectors (§2.4.2 sunscreen, A.2)", () => {
  for (const v of vectors.encryption) {
    const pt = hex(v.plaintext);
    const ks = keystream(hex(v.key), hex(v.nonce), v.counter, Math.ceil(pt.length / 64));
    const ct = pt.map((b, i) => b ^ ks[i]!);
    assert.equal(toHex(ct), v.ciphertext, v.name);
  }
});

test("one call of n blocks equals n calls of one block (every lane count of the 4-way batch)", () => {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  for (let n = 1; n <= 11; n++) {
    const all = keystream(key, nonce, 1000, n);
    for (let b = 0; b < n; b++) {
      assert.deepEqual(all.subarray(b * 64, b * 64 + 64), keystream(key, nonce, 1000 + b, 1), `n=${n} b=${b}`);
    }
  }
});

test("writes exactly nBlocks·64 bytes (no overrun past a partial batch)", () => {
  const K = kernels();
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  for (let n = 0; n <= 9; n++) {
    const len = n * 64 + 256;
    const p = K.alloc(64 + len);
    try {
      K.u8(p, 32).set(key);
      K.u8(p + 32, 12).set(nonce);
      K.u8(p + 64, len).fill(0xa5);
      K.k.chacha20Blocks(p, p + 32, 7, p + 64, n);
      const tail = K.u8(p + 64 + n * 64, 256);
      assert.ok(tail.every((b) => b === 0xa5), `bytes past ${n} blocks were written`);
    } finally {
      K.free(p);
    }
  }
});

test("agrees with node:crypto chacha20 for random keys, nonces, counters, lengths and alignments", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.integer({ min: 0, max: 0xffffffff - 64 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 15 }),
      (key, nonce, counter, nBlocks, misalign) => {
        const got = keystream(key, nonce, counter, nBlocks, misalign);
        assert.equal(toHex(got), toHex(reference(key, nonce, counter, nBlocks * 64)));
      },
    ),
    { numRuns: 150 },
  );
});

test("the 32-bit block counter wraps modulo 2^32 inside one call", () => {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const got = keystream(key, nonce, 0xfffffffe, 4);
  assert.deepEqual(got.subarray(0, 128), reference(key, nonce, 0xfffffffe, 128));
  assert.deepEqual(got.subarray(128), reference(key, nonce, 0, 128));
});

test("large output (1 MiB) matches node:crypto", () => {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const n = 16384;
  assert.ok(Buffer.from(keystream(key, nonce, 3, n)).equals(reference(key, nonce, 3, n * 64)));
});
