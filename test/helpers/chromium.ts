// Debian's Chromium for the browser tests, driven by playwright-core (which never downloads a browser):
// UMBRA_CHROMIUM names the binary. Without it a test skips, unless UMBRA_REQUIRE_SERVICES=1 (CI), where
// it fails.
import type { TestContext } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";

/** The Chromium binary, or undefined after skipping the test (a failure under UMBRA_REQUIRE_SERVICES=1). */
export function chromiumPath(t: TestContext): string | undefined {
  const path = process.env.UMBRA_CHROMIUM;
  if (path !== undefined && path !== "") return path;
  if (process.env.UMBRA_REQUIRE_SERVICES === "1") throw new Error("UMBRA_CHROMIUM is not set, and UMBRA_REQUIRE_SERVICES=1 requires the browser tests to run");
  t.skip("UMBRA_CHROMIUM is not set (the path of a Chromium binary, e.g. /usr/bin/chromium)");
  return undefined;
}

/** Headless Chromium with a fresh profile (removed by close()). */
export async function launchChromium(executablePath: string): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "umbra-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, timeout: 30_000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page whose uncaught errors and started workers' URLs are recorded (the tests assert on both). */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; errors: string[]; workers: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [], workers: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("worker", (w) => workers.push(w.url()));
  return { page, errors, workers };
}
