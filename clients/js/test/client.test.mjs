import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createUploader, computeChecksum, UploadError } from "../dist/consign.js";
import { ENDPOINT, STORE, MemoryStorage, view, world, progressLog, makeFile } from "./fake.mjs";

const ID = "0b9e7d2a-6c1f-4f7e-9a51-2d3c4b5a6f70";

function assertProgress(events, total) {
  assert.ok(events.length > 0, "progress was reported");
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].loaded >= events[i - 1].loaded, `loaded went down at ${i}: ${JSON.stringify(events)}`);
    assert.ok(events[i].percent >= events[i - 1].percent, `percent went down at ${i}`);
  }
  const last = events.at(-1);
  assert.equal(last.percent, 100);
  assert.equal(last.loaded, total);
  assert.equal(last.total, total);
  assert.equal(events.filter((e) => e.percent === 100).length, 1, "100% exactly once, at the end");
  for (const e of events.slice(0, -1)) assert.ok(e.percent < 100);
}

/** The server's answer to `POST /v1/uploads` granting a presigned PUT with `headers`. */
const putGrant = (headers = {}) => ({
  status: 201,
  body: { upload: view(ID), grant: { method: "PUT", url: STORE, headers, expires_at: "x" } },
});

function uploader(w, extra = {}) {
  const sleeps = [];
  const up = createUploader({
    endpoint: ENDPOINT + "/",
    token: "tok",
    fetch: w.fetch,
    XMLHttpRequest: w.XMLHttpRequest,
    storage: extra.storage ?? new MemoryStorage(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { up, sleeps };
}

/** Routes of a multipart upload of `size` bytes in parts of `partSize`. */
function multipartWorld({ size, partSize, held = [], partStore, complete, state = "pending", expiresIn = 3600e3 }) {
  const partCount = Math.ceil(size / partSize);
  const signed = [];
  const mp = { upload_id: "U1", part_size: partSize, part_count: partCount };
  const w = world({
    routes: {
      "POST /v1/uploads": ({ body }) => ({
        status: 201,
        body: {
          upload: view(ID, { method: "multipart", size: body.size, multipart: mp }),
          grant: { method: "MULTIPART", upload_id: "U1", part_size: partSize, part_count: partCount },
        },
      }),
      "GET /v1/uploads/:id": () => ({ body: view(ID, { method: "multipart", state, size, multipart: mp }) }),
      "GET /v1/uploads/:id/parts": () => ({
        body: {
          parts: held.map((n) => ({
            PartNumber: n,
            ETag: `"held-${n}"`,
            Size: Math.min(partSize, size - (n - 1) * partSize),
            LastModified: "2025-01-01T00:00:00Z",
          })),
        },
      }),
      "POST /v1/uploads/:id/parts": ({ body }) => {
        signed.push(body.part_numbers);
        const expires_at = new Date(Date.now() + expiresIn).toISOString();
        return {
          body: {
            parts: body.part_numbers.map((n) => ({
              part_number: n,
              url: `${STORE}/k?partNumber=${n}&uploadId=U1&sig=${signed.length}`,
              expires_at,
            })),
          },
        };
      },
      "POST /v1/uploads/:id/complete": complete ?? (() => ({ body: view(ID, { state: "uploaded", method: "multipart", size }) })),
      "DELETE /v1/uploads/:id": () => ({ body: view(ID, { state: "aborted" }) }),
    },
    store:
      partStore ??
      ((req) => {
        const n = Number(new URL(req.url).searchParams.get("partNumber"));
        return { status: 200, headers: { ETag: `"etag-${n}"` } };
      }),
  });
  return Object.assign(w, { signed, partCount });
}

test("PUT grant: exact headers, token only to the server, monotonic progress ending at 100", async () => {
  const file = makeFile(1000, "photo.png", 1, "image/png");
  const w = world({
    routes: {
      "POST /v1/uploads": ({ body }) => ({
        status: 201,
        body: {
          upload: view(ID, { size: body.size }),
          grant: {
            method: "PUT",
            url: `${STORE}/staging/x`,
            headers: { "content-type": "image/png", "content-length": "1000", "x-amz-meta-a": "b" },
            expires_at: "2099-01-01T00:00:00Z",
          },
        },
      }),
      "POST /v1/uploads/:id/complete": ({ body }) => {
        assert.deepEqual(body, {});
        return { body: view(ID, { state: "uploaded", size: 1000 }) };
      },
    },
    store: () => ({ status: 200, headers: { ETag: '"x"' } }),
  });
  const { up } = uploader(w);
  const log = progressLog();
  const result = await up.upload(file, { profile: "avatars", metadata: { a: "b" }, onProgress: log.onProgress });
  assert.equal(result.state, "uploaded");
  const create = w.calls[0];
  assert.equal(create.path, "/v1/uploads");
  assert.equal(create.auth, "Bearer tok");
  assert.deepEqual(create.body, {
    profile: "avatars",
    filename: "photo.png",
    content_type: "image/png",
    size: 1000,
    metadata: { a: "b" },
  });
  assert.equal(w.xhrs.length, 1);
  assert.equal(w.xhrs[0].method, "PUT");
  assert.deepEqual(w.xhrs[0].headers, { "content-type": "image/png", "x-amz-meta-a": "b" });
  assert.equal(w.xhrs[0].body, file);
  assertProgress(log.events, 1000);
});

test("POST grant: fields first, file last as `file`", async () => {
  const file = makeFile(500, "doc.pdf", 1, "application/pdf");
  const w = world({
    routes: {
      "POST /v1/uploads": () => ({
        status: 201,
        body: {
          upload: view(ID, { method: "post" }),
          grant: { method: "POST", url: STORE, fields: { key: "k", policy: "p", "x-amz-signature": "s" }, expires_at: "x" },
        },
      }),
      "POST /v1/uploads/:id/complete": () => ({ body: view(ID, { state: "uploaded" }) }),
    },
    store: () => ({ status: 204 }),
  });
  const { up } = uploader(w);
  const log = progressLog();
  await up.upload(file, { profile: "docs", method: "post", onProgress: log.onProgress });
  assert.equal(w.calls[0].body.method, "post");
  const form = w.xhrs[0].body;
  assert.deepEqual([...form.keys()], ["key", "policy", "x-amz-signature", "file"]);
  assert.equal(form.get("file").size, 500);
  assert.equal(form.get("file").name, "doc.pdf");
  assertProgress(log.events, 500);
});

test("the server's reason becomes the error message", async () => {
  const w = world({
    routes: {
      "POST /v1/uploads": () => ({
        status: 400,
        body: { error: "text/html is not allowed here: expected image/*", code: "type_not_allowed" },
      }),
    },
    store: () => ({ status: 200 }),
  });
  const { up } = uploader(w);
  await assert.rejects(up.upload(makeFile(10, "a.html", 1, "text/html"), { profile: "avatars" }), (e) => {
    assert.ok(e instanceof UploadError);
    assert.ok(e instanceof Error);
    assert.equal(e.message, "text/html is not allowed here: expected image/*");
    assert.equal(e.code, "type_not_allowed");
    assert.equal(e.status, 400);
    return true;
  });
  assert.equal(w.xhrs.length, 0);
});

test("multipart: parts in parallel up to `concurrency`, 5xx retried with exponential backoff", async () => {
  const size = 10 * 100 + 37;
  let failures = 0;
  const w = multipartWorld({
    size,
    partSize: 100,
    partStore: (req) => {
      const n = Number(new URL(req.url).searchParams.get("partNumber"));
      if (n === 3 && failures < 3) {
        failures++;
        return failures === 2 ? "network" : { status: 503, text: "<Error><Code>SlowDown</Code></Error>" };
      }
      return { status: 200, headers: { ETag: `"etag-${n}"` } };
    },
    complete: ({ body }) => {
      assert.deepEqual(
        body.parts,
        Array.from({ length: 11 }, (_, i) => ({ part_number: i + 1, etag: `"etag-${i + 1}"` })),
      );
      return { body: view(ID, { state: "uploaded", method: "multipart", size }) };
    },
  });
  const storage = new MemoryStorage();
  const { up, sleeps } = uploader(w, { concurrency: 3, storage, backoffMs: 500 });
  const log = progressLog();
  const result = await up.upload(makeFile(size), { profile: "big", onProgress: log.onProgress });
  assert.equal(result.state, "uploaded");
  assert.equal(w.maxInFlight, 3);
  assert.equal(w.xhrs.length, 11 + 3);
  assert.equal(sleeps.length, 3);
  // 500·2^n with jitter in [0.5, 1)
  sleeps.forEach((ms, n) => assert.ok(ms >= 250 * 2 ** n && ms < 500 * 2 ** n, `sleep ${n} = ${ms}`));
  assert.equal(w.xhrs.at(-1).size, 37, "last part is smaller");
  assert.ok(w.xhrs.every((x) => x.headers.authorization === undefined), "no token to storage");
  assertProgress(log.events, size);
  assert.equal(storage.length, 0, "resume entry cleared when done");
});

test("progress: at most one report per 100 ms, the last bytes and the final 100 at once", async () => {
  const size = 8 * 100;
  const w = multipartWorld({
    size,
    partSize: 100,
    // Each part takes ~40 ms: the upload spans several report intervals, and
    // every part fires its progress events many times within one interval.
    partStore: () => new Promise((resolve) => setTimeout(() => resolve({ status: 200, headers: { ETag: '"e"' } }), 40)),
    complete: () => ({ body: view(ID, { state: "uploaded", method: "multipart", size }) }),
  });
  const { up } = uploader(w, { concurrency: 2 });
  const events = [];
  await up.upload(makeFile(size), { profile: "big", onProgress: (p) => events.push({ ...p, at: Date.now() }) });
  assertProgress(events, size);
  const [allSent, final] = events.slice(-2);
  assert.equal(allSent.loaded, size, "the moment every byte is confirmed is reported");
  assert.ok(final.at - allSent.at < 50, "and not held back by the interval");
  const paced = events.slice(0, -2);
  assert.ok(paced.length >= 2, `reports while sending: ${paced.length}`);
  for (let i = 1; i < paced.length; i++) {
    // Timers may fire a millisecond early by the Date.now() clock.
    assert.ok(paced[i].at - paced[i - 1].at >= 98, `reports ${i - 1} and ${i} are ${paced[i].at - paced[i - 1].at} ms apart`);
  }
});

test("multipart: a part failing more than `retries` times fails the upload, keeps resume state", async () => {
  const w = multipartWorld({
    size: 400,
    partSize: 100,
    partStore: (req) => {
      const n = Number(new URL(req.url).searchParams.get("partNumber"));
      if (n === 2) return { status: 500, text: "<Error><Code>InternalError</Code><Message>boom</Message></Error>" };
      return { status: 200, headers: { ETag: `"etag-${n}"` } };
    },
  });
  const storage = new MemoryStorage();
  const { up, sleeps } = uploader(w, { retries: 2, storage, concurrency: 1 });
  await assert.rejects(up.upload(makeFile(400), { profile: "big" }), (e) => {
    assert.equal(e.code, "InternalError");
    assert.equal(e.status, 500);
    assert.match(e.message, /boom/);
    return true;
  });
  assert.equal(sleeps.length, 2);
  assert.equal(storage.length, 1);
  const entry = JSON.parse(storage.getItem(storage.key(0)));
  assert.equal(entry.id, ID);
  assert.deepEqual(entry.parts, { 1: '"etag-1"' });
  assert.ok(!w.calls.some((c) => c.method === "DELETE"), "a failure is not an abort");
});

test("multipart: an expired part URL is signed again", async () => {
  let expiredOnce = false;
  const w = multipartWorld({
    size: 300,
    partSize: 100,
    partStore: (req) => {
      const n = Number(new URL(req.url).searchParams.get("partNumber"));
      if (n === 2 && !expiredOnce) {
        expiredOnce = true;
        return {
          status: 403,
          text: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        };
      }
      return { status: 200, headers: { ETag: `"etag-${n}"` } };
    },
  });
  const { up, sleeps } = uploader(w, { concurrency: 1 });
  await up.upload(makeFile(300), { profile: "big" });
  assert.deepEqual(w.signed, [[1, 2, 3], [2]]);
  assert.equal(sleeps.length, 0, "no backoff for a re-signed URL");
});

test("multipart: URLs whose expires_at passed are re-signed before use", async () => {
  const w = multipartWorld({ size: 200, partSize: 100, expiresIn: 1000 }); // within the safety margin
  const { up } = uploader(w, { concurrency: 1 });
  await up.upload(makeFile(200), { profile: "big" });
  assert.deepEqual(w.signed, [[1, 2], [2]]);
});

test("resume: only the parts storage does not hold are sent", async () => {
  const size = 450;
  const file = makeFile(size, "movie.mp4", 42);
  const storage = new MemoryStorage();
  // A first attempt that dies after parts 1 and 2.
  const first = multipartWorld({
    size,
    partSize: 100,
    partStore: (req) => {
      const n = Number(new URL(req.url).searchParams.get("partNumber"));
      return n <= 2 ? { status: 200, headers: { ETag: `"etag-${n}"` } } : { status: 400, text: "<Error><Code>Nope</Code></Error>" };
    },
  });
  await assert.rejects(uploader(first, { storage, concurrency: 1 }).up.upload(file, { profile: "big" }), /Nope/);
  assert.equal(storage.length, 1);

  const second = multipartWorld({
    size,
    partSize: 100,
    held: [1, 2, 4],
    complete: ({ body }) => {
      assert.deepEqual(body.parts.map((p) => [p.part_number, p.etag]), [
        [1, '"held-1"'],
        [2, '"held-2"'],
        [3, '"etag-3"'],
        [4, '"held-4"'],
        [5, '"etag-5"'],
      ]);
      return { body: view(ID, { state: "uploaded", size }) };
    },
  });
  const log = progressLog();
  const result = await uploader(second, { storage }).up.upload(file, { profile: "big", onProgress: log.onProgress });
  assert.equal(result.state, "uploaded");
  assert.ok(!second.calls.some((c) => c.method === "POST" && c.path === "/v1/uploads"), "no new upload created");
  assert.deepEqual(second.calls.slice(0, 2).map((c) => `${c.method} ${c.path}`), [
    `GET /v1/uploads/${ID}`,
    `GET /v1/uploads/${ID}/parts`,
  ]);
  assert.deepEqual(second.xhrs.map((x) => new URL(x.url).searchParams.get("partNumber")).sort(), ["3", "5"]);
  assert.equal(log.events[0].loaded, 300, "progress starts at what storage holds");
  assertProgress(log.events, size);
  assert.equal(storage.length, 0);
});

test("resume: an entry whose upload is no longer pending starts over", async () => {
  const storage = new MemoryStorage();
  const file = makeFile(200, "x.bin", 5);
  const w = multipartWorld({ size: 200, partSize: 100, state: "expired" });
  const key = `consign:upload:${ENDPOINT}|big|x.bin|200|5`;
  storage.setItem(key, JSON.stringify({ id: ID, partSize: 100, partCount: 2, parts: { 1: '"old"' } }));
  await uploader(w, { storage }).up.upload(file, { profile: "big" });
  assert.ok(w.calls.some((c) => c.method === "POST" && c.path === "/v1/uploads"));
  assert.equal(w.xhrs.length, 2);
});

test("abort: in-flight requests stop, DELETE is called, rejects with code aborted", async () => {
  const storage = new MemoryStorage();
  const controller = new AbortController();
  let started = 0;
  const w = multipartWorld({
    size: 600,
    partSize: 100,
    partStore: (req) => {
      const n = Number(new URL(req.url).searchParams.get("partNumber"));
      if (n === 1) return { status: 200, headers: { ETag: '"e1"' } };
      if (++started === 2) setImmediate(() => controller.abort());
      return "hang";
    },
  });
  const { up } = uploader(w, { storage, concurrency: 3 });
  await assert.rejects(up.upload(makeFile(600), { profile: "big", signal: controller.signal }), (e) => {
    assert.ok(e instanceof UploadError);
    assert.equal(e.code, "aborted");
    assert.equal(e.upload?.state, "aborted");
    return true;
  });
  const del = w.calls.filter((c) => c.method === "DELETE");
  assert.deepEqual(del.map((c) => c.path), [`/v1/uploads/${ID}`]);
  const hung = w.xhrs.filter((x) => new URL(x.url).searchParams.get("partNumber") !== "1");
  assert.ok(hung.length >= 2 && hung.every((x) => x.aborted), "every in-flight XHR aborted");
  assert.equal(storage.length, 0, "resume entry cleared");
});

test("abort before start rejects at once; abort(id) deletes", async () => {
  const w = multipartWorld({ size: 100, partSize: 100 });
  const { up } = uploader(w);
  await assert.rejects(up.upload(makeFile(100), { profile: "big", signal: AbortSignal.abort() }), { code: "aborted" });
  assert.equal(w.calls.length, 0);
  const v = await up.abort(ID);
  assert.equal(v.state, "aborted");
  assert.deepEqual(w.calls.map((c) => `${c.method} ${c.path}`), [`DELETE /v1/uploads/${ID}`]);
});

test("checksum_required: created again with an MD5 of the file", async () => {
  const file = makeFile(10_000);
  const md5 = createHash("md5").update(new Uint8Array(await file.arrayBuffer())).digest("base64");
  let creates = 0;
  const w = world({
    routes: {
      "POST /v1/uploads": ({ body }) => {
        creates++;
        if (!body.checksum) return { status: 400, body: { error: 'profile "x" requires a checksum', code: "checksum_required" } };
        assert.deepEqual(body.checksum, { algorithm: "md5", value: md5 });
        return putGrant({ "content-md5": md5 });
      },
      "POST /v1/uploads/:id/complete": () => ({ body: view(ID, { state: "uploaded" }) }),
    },
    store: () => ({ status: 200 }),
  });
  await uploader(w).up.upload(file, { profile: "x" });
  assert.equal(creates, 2);
  assert.equal(w.xhrs[0].headers["content-md5"], md5);
});

test("checksums are computed incrementally and match", async () => {
  const file = makeFile(9 * 1024 * 1024 + 3); // several 4 MiB chunks
  const bytes = new Uint8Array(await file.arrayBuffer());
  assert.equal(await computeChecksum(file, "md5"), createHash("md5").update(bytes).digest("base64"));
  assert.equal(await computeChecksum(file, "sha256"), createHash("sha256").update(bytes).digest("base64"));
  assert.equal(await computeChecksum(new Blob(["123456789"]), "crc32c"), Buffer.from("e3069283", "hex").toString("base64"));
  assert.equal(await computeChecksum(new Blob([]), "crc32c"), "AAAAAA==");
});

test("complete: being_verified is retried, rejected carries the reason and the upload", async () => {
  let n = 0;
  const w = world({
    routes: {
      "POST /v1/uploads": () => putGrant(),
      "POST /v1/uploads/:id/complete": () => {
        n++;
        if (n < 3) return { status: 409, body: { error: "being verified", code: "being_verified" } };
        return {
          status: 422,
          body: {
            error: "file is 12.4 MB, the limit is 10.5 MB",
            code: "rejected",
            upload: view(ID, { state: "rejected", reason: "file is 12.4 MB, the limit is 10.5 MB" }),
          },
        };
      },
    },
    store: () => ({ status: 200 }),
  });
  const { up, sleeps } = uploader(w, { verifyRetryMs: 7 });
  await assert.rejects(up.upload(makeFile(10), { profile: "p" }), (e) => {
    assert.equal(e.message, "file is 12.4 MB, the limit is 10.5 MB");
    assert.equal(e.code, "rejected");
    assert.equal(e.status, 422);
    assert.equal(e.upload.state, "rejected");
    return true;
  });
  assert.equal(n, 3);
  assert.deepEqual(sleeps, [7, 7]);
});

test("getToken is asked before each server request", async () => {
  let asked = 0;
  const w = world({
    routes: {
      "POST /v1/uploads": () => putGrant(),
      "POST /v1/uploads/:id/complete": () => ({ body: view(ID, { state: "uploaded" }) }),
    },
    store: () => ({ status: 200 }),
  });
  const { up } = uploader(w, { token: undefined, getToken: async () => `t${++asked}` });
  const log = progressLog();
  await up.upload(makeFile(0, "empty.txt"), { profile: "p", onProgress: log.onProgress });
  assert.deepEqual(w.calls.map((c) => c.auth), ["Bearer t1", "Bearer t2"]);
  assert.equal(log.events.at(-1).percent, 100);
});

test("server 5xx on the API is retried; network failure to the server surfaces as code network", async () => {
  let n = 0;
  const w = world({
    routes: {
      "POST /v1/uploads": () => (++n < 3 ? { status: 503, body: { error: "busy", code: "unavailable" } } : "network"),
    },
    store: () => ({ status: 200 }),
  });
  const { up, sleeps } = uploader(w, { retries: 3 });
  await assert.rejects(up.upload(makeFile(1), { profile: "p" }), { code: "network" });
  assert.equal(n, 4);
  assert.equal(sleeps.length, 3);
});
