// Every `umbra` command answers --help; progress bars go to a terminal's stderr only, never with --json
// or --quiet, and never into a pipe a script reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ProgressBar, progressEnabled, withStatus } from "../src/cli/progress.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const COMMANDS = ["demo", "params", "bench", "compile", "serve", "worker", "keygen", "predict"];

test("umbra --help lists every command, and each command answers --help with its usage and options", () => {
  const top = execFileSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
  for (const c of COMMANDS) assert.match(top, new RegExp(`^  ${c}\\b`, "m"), `umbra --help does not list ${c}`);
  for (const c of COMMANDS) {
    const out = execFileSync(process.execPath, [cli, c, "--help"], { encoding: "utf8" });
    assert.match(out, new RegExp(`^Usage: umbra ${c}\\b`), c);
    assert.match(out, /^Options:$/m, c);
    assert.match(out, /-h, --help/, c);
  }
});

/** A stand-in for stderr: a terminal or not, recording what is drawn. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: "", write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test("progress bars: drawn on a terminal, never with --json or --quiet or on a pipe", () => {
  const tty = stream(true);
  const bar = new ProgressBar("uploading", 4 * 2 ** 20, "bytes", { stream: tty });
  bar.update(2 ** 20);
  bar.finish();
  assert.match(tty.text, /uploading \[#{24}\] 100% 4\.0 MiB\/4\.0 MiB/);
  assert.ok(tty.text.endsWith("\r\x1b[K"), "the bar's line is cleared at the end");
  for (const [s, o] of [[stream(false), {}], [stream(true), { json: true }], [stream(true), { quiet: true }]] as const) {
    const b = new ProgressBar("rows", 10, "rows", { ...o, stream: s });
    b.update(5);
    b.finish();
    assert.equal(withStatus("keygen", () => 42, { ...o, stream: s }).value, 42);
    assert.equal(s.text, "", JSON.stringify(o));
    assert.equal(progressEnabled({ ...o, stream: s }), false);
  }
});
