// A 1 GiB multipart upload from Chromium (the page at /) to `consign serve`
// on loopback, beside curl PUTting the same file to the same store through a
// presigned URL. Prints seconds, MiB/s and the CPU seconds each side spent
// (from /proc, so the figures mean something even on a busy machine).
// Run by bench/browser-upload.sh.
//
// Usage: node bench-upload.mjs API_URL API_KEY FILE SERVER_PID
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { launchChromium } from "./harness.mjs";

const [api, apiKey, path, serverPid] = process.argv.slice(2);
const size = statSync(path).size;
const mib = size / (1024 * 1024);
const TICKS_PER_SECOND = 100;

/** The process ids under `root` (itself included), from /proc. */
function tree(root) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(entry, stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const found = [String(root)];
  for (let i = 0; i < found.length; i++) {
    for (const [pid, parent] of parents) if (parent === found[i]) found.push(pid);
  }
  return found;
}

/**
 * What kind of process `command` (its /proc cmdline) is. Chromium rewrites
 * its children's command lines, dropping `--type=`, so they are told apart
 * by the switches each kind keeps.
 */
function kindOf(command) {
  if (command.includes("--renderer-client-id")) return "renderer";
  if (command.includes("--gpu-preferences")) return "gpu";
  if (command.includes("v8_context_snapshot")) return "network";
  if (command.includes("--ozone-override-screen-size")) return "zygote";
  if (command.includes("--remote-debugging-pipe") || command.startsWith("/usr/lib/chromium")) return "browser";
  return basename(command.split("\0")[0].split(" ")[0]);
}

/**
 * CPU seconds (user + system) spent so far by `root` and the processes under
 * it (those that ended count once waited for), by kind (see `kindOf`).
 */
function cpuByKind(root) {
  const kinds = {};
  for (const pid of tree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const kind = kindOf(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      // utime, stime, cutime, cstime are fields 14-17 of stat(5); here 11-14.
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      kinds[kind] = (kinds[kind] ?? 0) + ticks / TICKS_PER_SECOND;
    } catch {
      // Ended meanwhile.
    }
  }
  return kinds;
}

const total = (kinds) => Object.values(kinds).reduce((a, b) => a + b, 0);
const cpuSeconds = (root) => total(cpuByKind(root));

async function grant() {
  const response = await fetch(`${api}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ profile: "default", filename: "curl.bin", content_type: "application/octet-stream", size, method: "put" }),
  });
  if (response.status !== 201) throw new Error(await response.text());
  return response.json();
}

/**
 * Reads the file once so that both clients start with it in the page cache:
 * this machine's kernel evicts idle pages (DAMON), and a run that reads from
 * disk measures the disk.
 */
const warm = () => run("cat", [path]);

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

const curlRuns = [];
for (let attempt = 0; attempt < 2; attempt++) {
  const { grant: put } = await grant();
  const headers = Object.entries(put.headers).filter(([n]) => n !== "content-length").flatMap(([n, v]) => ["-H", `${n}: ${v}`]);
  await warm();
  const ownBefore = process.cpuUsage();
  const childrenBefore = cpuSeconds(process.pid);
  const serverBefore = cpuSeconds(serverPid);
  const started = performance.now();
  await run("curl", ["-sf", "-o", "/dev/null", "-T", path, ...headers, put.url]);
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const client = cpuSeconds(process.pid) - childrenBefore - (own.user + own.system) / 1e6;
  curlRuns.push({ seconds, client, server: cpuSeconds(serverPid) - serverBefore });
}

const browser = await launchChromium();
const browserRuns = [];
for (let attempt = 0; attempt < 2; attempt++) {
  const page = await browser.newPage();
  await page.goto(`${api}/${process.env.CONCURRENCY ? `?concurrency=${process.env.CONCURRENCY}` : ""}`);
  await page.waitForSelector("#profile option", { state: "attached" });
  await page.selectOption("#profile", "default");
  // The page says when the row reaches 99.9% (every byte acknowledged) or a
  // final state, through one awaited promise: polling from here would cost
  // the renderer and the browser process CPU the upload competes for.
  const selector = `.row[data-filename="${basename(path)}"]`;
  await page.evaluate((selector) => {
    const reached = (test) => new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        const row = document.querySelector(selector);
        if (row && test(row)) {
          observer.disconnect();
          resolve();
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true,
        attributeFilter: ["data-percent", "data-state"] });
    });
    window.benchTransferred = reached((row) => Number(row.dataset.percent) >= 99.9 || row.dataset.state);
    window.benchSettled = reached((row) => row.dataset.state);
  }, selector);
  await warm();
  const ownBefore = process.cpuUsage();
  const kindsBefore = cpuByKind(process.pid);
  const serverBefore = cpuSeconds(serverPid);
  const started = performance.now();
  await page.setInputFiles("#picker", path);
  await page.evaluate(() => window.benchTransferred);
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const kindsAfter = cpuByKind(process.pid);
  const client = total(kindsAfter) - total(kindsBefore) - (own.user + own.system) / 1e6;
  const server = cpuSeconds(serverPid) - serverBefore;
  const kinds = Object.entries(kindsAfter).filter(([k]) => k !== "node")
    .map(([k, v]) => `${k} ${(v - (kindsBefore[k] ?? 0)).toFixed(2)}`).join(", ");
  console.log(`  run ${attempt + 1}: ${seconds.toFixed(2)} s; Chromium CPU s by process kind: ${kinds}`);
  await page.evaluate(() => window.benchSettled);
  const verified = (performance.now() - started) / 1000;
  const row = page.locator(selector).first();
  if ((await row.getAttribute("data-state")) !== "uploaded") throw new Error(await row.textContent());
  browserRuns.push({ seconds, client, server, verified });
  await page.close();
}
await browser.close();

const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const describe = (runs) => {
  const b = best(runs);
  return `best of ${runs.length} ${b.seconds.toFixed(2)} s = ${(mib / b.seconds).toFixed(0)} MiB/s` +
    ` (runs ${runs.map((r) => r.seconds.toFixed(2)).join(", ")}); CPU s in that run: client ${b.client.toFixed(2)},` +
    ` consign ${b.server.toFixed(2)}`;
};
const curl = best(curlRuns);
const transfer = best(browserRuns);
console.log(`file: ${mib.toFixed(0)} MiB`);
console.log(`curl PUT (presigned, one request): ${describe(curlRuns)}`);
console.log(`Chromium multipart (page, all parts acknowledged): ${describe(browserRuns)}`);
const verified = Math.min(...browserRuns.map((r) => r.verified));
console.log(`Chromium multipart until verified and moved to its final key: best of 2 ${verified.toFixed(2)} s = ${(mib / verified).toFixed(0)} MiB/s`);
console.log(`browser transfer throughput / curl: ${((curl.seconds / transfer.seconds) * 100).toFixed(0)}%`);
// Chromium and the store share this machine's cores: however well they
// overlap, the browser's transfer cannot be faster than all the CPU time
// both sides need spread over every core.
const cores = availableParallelism();
const floor = (transfer.client + transfer.server) / cores;
console.log(`CPU bound: Chromium + consign need ${(transfer.client + transfer.server).toFixed(2)} CPU s; on ${cores} cores` +
  ` at least ${floor.toFixed(2)} s = at most ${(mib / floor).toFixed(0)} MiB/s = ${((curl.seconds / floor) * 100).toFixed(0)}% of curl`);
