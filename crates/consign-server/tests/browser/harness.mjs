// What the browser scripts share: failing loudly, test files in a temporary
// folder (removed when the script exits), reading Consign's API with the
// backend key, and Debian's Chromium launched the same way every time.
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** Prints what failed and ends the script with status 1 (the Rust test shows the output). */
export function fail(message, ...context) {
  console.error(`FAILED: ${message}`, ...context);
  process.exit(1);
}

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** A function that writes a named test file into a fresh folder and returns its path; the folder goes at exit. */
export function testFiles(prefix) {
  const dir = join(tmpdir(), `${prefix}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return (name, bytes) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
}

/** `GET path` on Consign's API with the backend key, as JSON; fails the script on any error status. */
export function backendApi(api, apiKey) {
  return async (path) => {
    const response = await fetch(api + path, { headers: { authorization: `Bearer ${apiKey}` } });
    if (!response.ok) fail(`GET ${path}`, response.status, await response.text());
    return response.json();
  };
}

/** Debian's Chromium (or $CHROMIUM), headless, without the background work that would disturb a measurement. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}
