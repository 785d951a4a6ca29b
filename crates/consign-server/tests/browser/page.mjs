// The upload page in a real browser (Debian's Chromium, driven by
// playwright-core) against a real `consign serve`: a PNG through a presigned
// PUT, a JPEG through a POST form, a 120 MiB file through multipart with
// progress that only goes up and ends at 100%, a disallowed file refused
// with its readable reason, a multipart upload resumed after a page reload,
// a cancelled upload that leaves nothing, a checksum computed in the browser
// (file chosen with the keyboard), and a narrow screen.
// Each accepted file is read back from storage and compared by SHA-256.
//
// Usage: node page.mjs API_URL API_KEY ARTIFACT_DIR
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { backendApi, fail, launchChromium, sha256, testFiles } from "./harness.mjs";

const [api, apiKey, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const file = testFiles("consign-page");
const backend = backendApi(api, apiKey);

const png = file("cat.png", Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), randomBytes(200_000)]));
const jpeg = file("photo.jpg", Buffer.concat([Buffer.from("ffd8ffe000104a464946", "hex"), randomBytes(150_000)]));
const html = file("page.html", Buffer.from("<!doctype html><script>alert(1)</script>"));
const big = file("video.bin", randomBytes(120 * 1024 * 1024));
const cancelled = file("cancel.bin", randomBytes(120 * 1024 * 1024));
const resumed = file("resume.bin", randomBytes(110 * 1024 * 1024));

async function storedBytesEqual(row, path) {
  const id = await row.getAttribute("data-upload-id");
  const link = await backend(`/v1/files/${id}/url`);
  const stored = Buffer.from(await (await fetch(link.url)).arrayBuffer());
  if (sha256(stored) !== sha256(readFileSync(path))) fail(`the stored bytes of ${path} differ from the file`);
  const record = await backend(`/v1/uploads/${id}`);
  if (record.state !== "uploaded") fail("not verified", record);
  return record;
}

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
const consoleErrors = [];
// A refused grant is a 400 the browser logs as a failed resource; scripts must not fail, and no answer may be a 5xx.
page.on("console", (m) => m.type() === "error" && !m.text().includes("status of 400") && consoleErrors.push(m.text()));
page.on("response", (r) => r.status() >= 500 && consoleErrors.push(`${r.status()} from ${r.url()}`));
page.on("pageerror", (error) => consoleErrors.push(String(error)));
// Every progress value each row shows, in order.
await page.addInitScript(() => {
  window.__progress = {};
  new MutationObserver((changes) => {
    for (const change of changes) {
      const row = change.target.closest?.(".row");
      if (row && change.attributeName === "data-percent") {
        (window.__progress[row.dataset.filename] ??= []).push(Number(row.dataset.percent));
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-percent"] });
});
await page.goto(api + "/");
await page.waitForSelector("#profile option", { state: "attached" });

async function upload(profile, path, name) {
  await page.selectOption("#profile", profile);
  await page.setInputFiles("#picker", path);
  const row = page.locator(`.row[data-filename="${name}"]`).first();
  await row.waitFor();
  return row;
}

async function finished(row, timeout = 120_000) {
  await page.waitForFunction((element) => element.dataset.state, await row.elementHandle(), { timeout });
  return row.getAttribute("data-state");
}

// PNG: the images profile prefers a presigned PUT.
let row = await upload("images", png, "cat.png");
if ((await finished(row)) !== "uploaded") fail("PNG", await row.textContent());
let record = await storedBytesEqual(row, png);
if (record.method !== "put" || record.detected_type !== "image/png") fail("PNG record", record);
console.log("PNG via PUT: uploaded and verified");

// A profile that requires a checksum: the client learns it from the refusal,
// computes MD5 in the browser and sends it; storage and Consign both check it.
// The file is chosen with the keyboard (focus the drop zone, press Enter).
await page.selectOption("#profile", "avatars");
await page.focus("#drop");
const chooserOpened = page.waitForEvent("filechooser");
// Playwright turns file-chooser interception on asynchronously: without a
// round trip first, a loaded machine can deliver the key press before it,
// and the chooser then opens unseen (seen once in CI). The round trip also
// checks that the drop zone has the focus.
const focused = await page.evaluate(() => document.activeElement?.id);
if (focused !== "drop") fail("the drop zone should have the focus", focused);
await page.keyboard.press("Enter");
const chooser = await chooserOpened;
const avatar = file("avatar.png", Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), randomBytes(60_000)]));
await chooser.setFiles(avatar);
row = page.locator('.row[data-filename="avatar.png"]').first();
if ((await finished(row)) !== "uploaded") fail("avatar with checksum", await row.textContent());
record = await storedBytesEqual(row, avatar);
const md5 = createHash("md5").update(readFileSync(avatar)).digest("base64");
if (record.checksum?.algorithm !== "md5" || record.checksum.value !== md5) fail("the browser's MD5", record.checksum, md5);
console.log("checksum required: MD5 computed in the browser, chosen with the keyboard, verified");

// JPEG: the forms profile allows only POST forms.
row = await upload("forms", jpeg, "photo.jpg");
if ((await finished(row)) !== "uploaded") fail("JPEG", await row.textContent());
record = await storedBytesEqual(row, jpeg);
if (record.method !== "post") fail("JPEG record", record);
console.log("JPEG via POST form: uploaded and verified");

// A disallowed type, refused with its readable reason.
row = await upload("images", html, "page.html");
if ((await finished(row)) !== "failed") fail("HTML should be refused", await row.textContent());
const reason = await row.locator(".detail").textContent();
if (!reason.includes("text/html is not allowed here: expected image/*")) fail("the reason shown", reason);
console.log(`HTML refused: "${reason}"`);

// 120 MiB through multipart, progress only going up and ending at 100%.
row = await upload("default", big, "video.bin");
await page.waitForFunction(() => (window.__progress["video.bin"] || []).some((p) => p > 20 && p < 90), null,
  { timeout: 60_000, polling: 50 }).catch(() => {});
await page.screenshot({ path: join(artifacts, "page-during-multipart.png"), fullPage: true });
if ((await finished(row, 300_000)) !== "uploaded") fail("multipart", await row.textContent());
record = await storedBytesEqual(row, big);
if (record.method !== "multipart") fail("multipart record", record);
const progress = await page.evaluate(() => window.__progress["video.bin"]);
for (let i = 1; i < progress.length; i++) if (progress[i] < progress[i - 1]) fail("progress went down", progress);
if (progress.at(-1) !== 100 || progress.length < 5) fail("progress must end at 100", progress);
console.log(`120 MiB via multipart: uploaded and verified; ${progress.length} progress values, monotonic, ending at 100`);

// Resume: a multipart upload interrupted by a page reload continues without
// sending the parts storage already holds. The upload is slowed to 30 MiB/s so
// the reload lands mid-way; storage's list of parts is read after the reload,
// every request of the page is watched, and none of those parts may be sent
// again; the same upload then completes with the file's bytes.
const cdp = await page.context().newCDPSession(page);
const throttle = () => cdp.send("Network.emulateNetworkConditions",
  { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 30 * 1024 * 1024 });
await cdp.send("Network.enable");
await throttle();
row = await upload("default", resumed, "resume.bin");
await page.waitForFunction(() => (window.__progress["resume.bin"] || []).some((p) => p > 40), null,
  { timeout: 60_000, polling: 20 });
await page.reload();
await page.waitForSelector("#profile option", { state: "attached" });
const pending = (await backend("/v1/uploads?subject=demo&limit=50")).uploads.find((u) => u.filename === "resume.bin");
if (!pending || pending.state !== "pending") fail("the interrupted upload must still be pending", pending);
const before = (await backend(`/v1/uploads/${pending.id}/parts`)).parts;
if (before.length < 2) fail("some parts must be stored before the reload", before);
const sentAgain = [];
page.on("request", (request) => {
  const number = new URL(request.url()).searchParams.get("partNumber");
  if (request.method() === "PUT" && number && before.some((p) => String(p.PartNumber) === number)) sentAgain.push(number);
});
row = await upload("default", resumed, "resume.bin");
if ((await finished(row, 120_000)) !== "uploaded") fail("resumed upload", await row.textContent());
if (sentAgain.length) fail("parts storage held were sent again", sentAgain);
record = await storedBytesEqual(row, resumed);
if (record.id !== pending.id) fail("the resumed upload must be the same upload", record.id, pending.id);
console.log(`resume after reload: ${before.length} of ${record.multipart.part_count} parts were stored and not sent again`);
await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

// Cancel: the multipart upload is aborted and nothing is kept.
row = await upload("default", cancelled, "cancel.bin");
await page.waitForFunction(() => (window.__progress["cancel.bin"] || []).some((p) => p > 5), null,
  { timeout: 60_000, polling: 20 });
await row.locator(".cancel").click();
if ((await finished(row)) !== "aborted") fail("cancel", await row.textContent());
// The page may show the cancel before the server has finished aborting: wait for the record to settle.
let aborted;
for (let attempt = 0; attempt < 50; attempt++) {
  const { uploads } = await backend("/v1/uploads?subject=demo&limit=50");
  aborted = uploads.find((u) => u.filename === "cancel.bin");
  if (aborted && !["pending", "verifying"].includes(aborted.state)) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
if (!aborted || aborted.state !== "aborted") fail("the cancelled upload must be aborted", aborted);
console.log("cancel: aborted, nothing kept");

await page.waitForSelector("#gallery img", { state: "attached" });
await page.screenshot({ path: join(artifacts, "page-after-uploads.png"), fullPage: true });
// A narrow screen: nothing wider than the viewport.
await page.setViewportSize({ width: 360, height: 800 });
const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
await page.screenshot({ path: join(artifacts, "page-narrow.png"), fullPage: true });
if (overflow > 0) fail(`the page is ${overflow} px wider than a 360 px screen`);
if (consoleErrors.length) fail("console errors", consoleErrors);
await browser.close();
console.log("page ok");
