// The /uppy page in Debian's Chromium: Uppy's own Dashboard and @uppy/aws-s3
// code uploading a small file (Uppy's single-request POST form; Consign
// completes it when the object appears) and a 110 MiB file (Uppy's
// multipart), each recorded and verified by Consign, the stored bytes
// equal to the file's.
//
// Usage: node uppy.mjs API_URL API_KEY ARTIFACT_DIR
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { backendApi, fail, launchChromium, sha256, testFiles } from "./harness.mjs";

const [api, apiKey, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const write = testFiles("consign-uppy");
const backend = backendApi(api, apiKey);

const small = write("uppy-small.png", Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), randomBytes(80_000)]));
const large = write("uppy-large.bin", randomBytes(110 * 1024 * 1024));

async function verified(name, path) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { uploads } = await backend("/v1/uploads?subject=demo&limit=100");
    const record = uploads.find((u) => u.filename === name);
    if (record && record.state === "uploaded") {
      const link = await backend(`/v1/files/${record.id}/url`);
      const stored = Buffer.from(await (await fetch(link.url)).arrayBuffer());
      if (sha256(stored) !== sha256(readFileSync(path))) fail(`${name}: stored bytes differ`);
      return record;
    }
    if (record && !["pending", "verifying"].includes(record.state)) fail(`${name} ended ${record.state}`, record);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(`${name} was never verified`);
}

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
const errors = [];
page.on("pageerror", (error) => errors.push(String(error)));
page.on("response", (r) => r.status() >= 500 && errors.push(`${r.status()} from ${r.url()}`));
await page.goto(api + "/uppy");
await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 30_000 });
await page.locator(".uppy-Dashboard-input").first().setInputFiles([small, large]);
await page.locator(".uppy-StatusBar-actionBtn--upload").click();
await page.waitForFunction(() => document.body.dataset.lastResult, null, { timeout: 300_000 });
await page.screenshot({ path: join(artifacts, "uppy-after-uploads.png"), fullPage: true });
const result = JSON.parse(await page.evaluate(() => document.body.dataset.lastResult));
if (result.failed.length || result.successful.length !== 2) fail("Uppy's result", result);
const single = await verified("uppy-small.png", small);
const multipart = await verified("uppy-large.bin", large);
if (single.method !== "post" || multipart.method !== "multipart") fail("methods", single.method, multipart.method);
if (errors.length) fail("page errors", errors);
await browser.close();
console.log(`Uppy: ${single.filename} (POST form, auto-completed) and ${multipart.filename} (multipart) uploaded and verified`);
console.log("uppy ok");
