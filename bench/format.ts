// Number formatting shared by the result lines and BENCHMARKS.md: significant-digit rounding, times,
// byte counts, plain numbers.

/** x rounded to `digits` significant digits (0 and non-finite values unchanged). */
export function round(x: number, digits = 4): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const scale = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
}

export function fmtMs(x: number | undefined): string {
  if (x === undefined) return "—";
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 10000 ? 1 : 2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  if (x >= 1) return `${x.toFixed(2)} ms`;
  return `${(x * 1000).toFixed(x >= 0.1 ? 0 : 1)} µs`;
}

export function fmtBytes(b: number | undefined): string {
  if (b === undefined) return "—";
  if (b < 1024) return `${b} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = b / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function fmtNum(x: number | undefined): string {
  if (x === undefined) return "—";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : String(round(x, 3));
}
