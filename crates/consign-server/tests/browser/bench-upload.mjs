// A 1 GiB multipart upload from Chromium (the page at /) to `consign serve`
// on loopback, beside curl PUTting the same file to the same store through a
// presigned URL. Prints seconds and MiB/s for both. Run by bench/browser-upload.sh.
//
// Usage: node bench-upload.mjs API_URL API_KEY FILE
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { chromium } from "playwright-core";

const [api, apiKey, path] = process.argv.slice(2);
const size = statSync(path).size;
const mib = size / (1024 * 1024);

async function grant() {
  const response = await fetch(`${api}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ profile: "default", filename: "curl.bin", content_type: "application/octet-stream", size, method: "put" }),
  });
  if (response.status !== 201) throw new Error(await response.text());
  return response.json();
}

const curlRuns = [];
for (let run = 0; run < 2; run++) {
  const { grant: put } = await grant();
  const headers = Object.entries(put.headers).filter(([n]) => n !== "content-length").flatMap(([n, v]) => ["-H", `${n}: ${v}`]);
  const started = performance.now();
  execFileSync("curl", ["-sf", "-o", "/dev/null", "-T", path, ...headers, put.url]);
  curlRuns.push((performance.now() - started) / 1000);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const browserRuns = [];
for (let run = 0; run < 2; run++) {
  const page = await browser.newPage();
  await page.goto(`${api}/${process.env.CONCURRENCY ? `?concurrency=${process.env.CONCURRENCY}` : ""}`);
  await page.waitForSelector("#profile option", { state: "attached" });
  await page.selectOption("#profile", "default");
  const started = performance.now();
  await page.setInputFiles("#picker", path);
  const row = page.locator(`.row[data-filename="${basename(path)}"]`).first();
  await page.waitForFunction((el) => Number(el.dataset.percent) >= 99.9 || el.dataset.state, await row.elementHandle(),
    { timeout: 600_000, polling: 20 });
  const transferred = (performance.now() - started) / 1000;
  await page.waitForFunction((el) => el.dataset.state, await row.elementHandle(), { timeout: 600_000 });
  const verified = (performance.now() - started) / 1000;
  if ((await row.getAttribute("data-state")) !== "uploaded") throw new Error(await row.textContent());
  browserRuns.push({ transferred, verified });
  await page.close();
}
await browser.close();

const best = (values) => Math.min(...values);
const curl = best(curlRuns);
const transfer = best(browserRuns.map((r) => r.transferred));
const complete = best(browserRuns.map((r) => r.verified));
console.log(`file: ${mib.toFixed(0)} MiB`);
console.log(`curl PUT (presigned, one request): best of 2 ${curl.toFixed(2)} s = ${(mib / curl).toFixed(0)} MiB/s  runs ${curlRuns.map((s) => s.toFixed(2)).join(", ")}`);
console.log(`Chromium multipart (page, all parts acknowledged): best of 2 ${transfer.toFixed(2)} s = ${(mib / transfer).toFixed(0)} MiB/s  runs ${browserRuns.map((r) => r.transferred.toFixed(2)).join(", ")}`);
console.log(`Chromium multipart until verified and moved to its final key: best of 2 ${complete.toFixed(2)} s = ${(mib / complete).toFixed(0)} MiB/s`);
console.log(`browser transfer throughput / curl: ${((curl / transfer) * 100).toFixed(0)}%`);
