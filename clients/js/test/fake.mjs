// A fake Consign server (fetch) and a fake S3 (XMLHttpRequest) for the tests.

export const ENDPOINT = "https://consign.test";
export const STORE = "https://s3.test/bucket";

/** In-memory `Storage`. */
export class MemoryStorage {
  #m = new Map();
  get length() {
    return this.#m.size;
  }
  key(i) {
    return [...this.#m.keys()][i] ?? null;
  }
  getItem(k) {
    return this.#m.has(k) ? this.#m.get(k) : null;
  }
  setItem(k, v) {
    this.#m.set(k, String(v));
  }
  removeItem(k) {
    this.#m.delete(k);
  }
  clear() {
    this.#m.clear();
  }
}

export function view(id, extra = {}) {
  return {
    id,
    state: "pending",
    profile: "docs",
    method: "put",
    subject: "alice",
    filename: "f.bin",
    content_type: "application/octet-stream",
    size: 0,
    bucket: "bucket",
    key: `k/${id}`,
    metadata: {},
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    expires_at: "2099-01-01T00:00:00Z",
    ...extra,
  };
}

const json = (status, body) =>
  new Response(body === undefined ? "" : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

/**
 * Builds a fake world. `routes` maps "METHOD /path" (path with the upload id
 * replaced by ":id") to a handler `(req) => {status, body}`; `store(req)`
 * answers storage requests: `{status, text?, headers?}` or "network".
 */
export function world({ routes = {}, store } = {}) {
  const calls = []; // every API call: {method, path, body, auth}
  const xhrs = []; // every storage request: {method, url, headers, size, aborted}
  let inFlight = 0;
  let maxInFlight = 0;

  async function fetch(url, init = {}) {
    const u = new URL(url);
    const body = init.body ? JSON.parse(init.body) : undefined;
    const auth = init.headers?.authorization;
    const path = u.pathname.replace(/\/v1\/(uploads|files)\/[^/]+/, "/v1/$1/:id");
    const call = { method: init.method ?? "GET", path: u.pathname, route: path, body, auth };
    calls.push(call);
    const handler = routes[`${call.method} ${path}`];
    if (!handler) return json(404, { error: `no route ${call.method} ${path}`, code: "not_found" });
    const out = await handler(call);
    if (out === "network") throw new TypeError("Failed to fetch");
    return json(out.status ?? 200, out.body);
  }

  class FakeXHR {
    upload = { onprogress: null };
    onload = null;
    onerror = null;
    ontimeout = null;
    onabort = null;
    status = 0;
    responseText = "";
    #headers = {};
    #resHeaders = {};
    #req = null;
    #done = false;
    open(method, url) {
      this.#req = { method, url, headers: this.#headers, size: 0, aborted: false };
    }
    setRequestHeader(k, v) {
      this.#headers[k] = v;
    }
    getResponseHeader(k) {
      const hit = Object.entries(this.#resHeaders).find(([h]) => h.toLowerCase() === k.toLowerCase());
      return hit ? hit[1] : null;
    }
    abort() {
      if (this.#done) return;
      this.#done = true;
      this.#req.aborted = true;
      inFlight--;
      // Like browsers: abort() fires onabort; the client removed its listener first.
    }
    send(body) {
      const req = this.#req;
      req.body = body;
      req.size = body instanceof Blob ? body.size : body instanceof FormData ? body.get("file").size + 300 : 0;
      xhrs.push(req);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      (async () => {
        for (const f of [0.25, 0.5, 1]) {
          await new Promise((r) => setImmediate(r));
          if (this.#done) return;
          const loaded = Math.round(req.size * f);
          this.upload.onprogress?.({ loaded, total: req.size, lengthComputable: true });
        }
        await new Promise((r) => setImmediate(r));
        if (this.#done) return;
        const out = await store(req);
        if (this.#done || out === "hang") return; // "hang": never answers (until aborted)
        this.#done = true;
        inFlight--;
        if (out === "network") return this.onerror?.();
        this.status = out.status ?? 200;
        this.responseText = out.text ?? "";
        this.#resHeaders = out.headers ?? {};
        this.onload?.();
      })();
    }
  }

  return {
    fetch,
    XMLHttpRequest: FakeXHR,
    calls,
    xhrs,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

/** Records every onProgress call and checks the invariants. */
export function progressLog() {
  const events = [];
  return {
    events,
    onProgress: (p) => events.push({ ...p }),
  };
}

/** A `File` of `size` bytes with deterministic content. */
export function makeFile(size, name = "f.bin", lastModified = 1700000000000, type = "application/octet-stream") {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return new File([bytes], name, { type, lastModified });
}
