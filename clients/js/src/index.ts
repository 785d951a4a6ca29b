/**
 * Consign browser upload client: asks the Consign server for an upload grant,
 * sends the bytes straight to storage the way the grant says (one PUT, one
 * form POST, or a resumable multipart upload), then asks the server to
 * complete (verify) the upload.
 */
import { createCRC32, createMD5, createSHA256 } from "hash-wasm";

// ---------------------------------------------------------------- types --

/** Lifecycle state of an upload on the server. */
export type UploadState = "pending" | "verifying" | "uploaded" | "rejected" | "aborted" | "expired" | "deleted";

/** How the bytes travel to storage. */
export type UploadMethod = "put" | "post" | "multipart";

/** Checksum algorithms the server understands. */
export type ChecksumAlgorithm = "md5" | "sha256" | "crc32c";

/** The server's record of an upload. */
export interface UploadView {
  id: string;
  state: UploadState | string;
  reason?: string;
  profile: string;
  method: UploadMethod | string;
  subject: string;
  filename: string;
  content_type: string;
  detected_type?: string;
  size?: number;
  stored_size?: number;
  bucket: string;
  key: string;
  checksum?: { algorithm: ChecksumAlgorithm | string; value: string };
  metadata: Record<string, string>;
  multipart?: { upload_id: string; part_size: number; part_count: number };
  created_at: string;
  updated_at: string;
  expires_at: string;
}

/** Send the file as the body of one PUT with exactly these headers. */
export interface PutGrant {
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expires_at: string;
}

/** Send a multipart/form-data POST: every field, then the file as `file`. */
export interface PostGrant {
  method: "POST";
  url: string;
  fields: Record<string, string>;
  expires_at: string;
}

/** Send parts 1..part_count of part_size bytes (the last one smaller). */
export interface MultipartGrant {
  method: "MULTIPART";
  upload_id: string;
  part_size: number;
  part_count: number;
}

export type Grant = PutGrant | PostGrant | MultipartGrant;

/** Upload progress, reported while bytes are on the wire. */
export interface Progress {
  /** Bytes storage holds or is receiving (never decreases). */
  loaded: number;
  /** Size of the file. */
  total: number;
  /** 0..100; exactly 100 only once the server completed the upload. */
  percent: number;
  /** Recent throughput (0 until measured). */
  bytesPerSecond: number;
  /** Estimated seconds left, `null` while unknown. */
  secondsLeft: number | null;
}

/** What `upload()` accepts: a File, or a Blob with a name. */
export type UploadSource = File | (Blob & { name: string; lastModified?: number });

export interface UploadOptions {
  /** The server profile (bucket, limits, allowed types) to upload under. */
  profile: string;
  /** Metadata to store with the file. */
  metadata?: Record<string, string>;
  /** Ask for a particular method; the server picks one by default. */
  method?: UploadMethod;
  /**
   * Checksum to declare, computed here before the upload. By default none is
   * sent unless the profile requires one (then MD5); `false` never sends one.
   */
  checksum?: ChecksumAlgorithm | false;
  /** Content type to declare; defaults to the file's type. */
  contentType?: string;
  onProgress?: (progress: Progress) => void;
  /** Aborts the upload: in-flight requests stop and the upload is deleted. */
  signal?: AbortSignal;
}

/** Minimal `XMLHttpRequest` surface the client uses (injectable for tests). */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body?: Blob | FormData | null): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  ontimeout: (() => void) | null;
  onabort: (() => void) | null;
}

export interface UploaderOptions {
  /** Base URL of the Consign server, e.g. `https://files.example.com`. */
  endpoint: string;
  /** Bearer token sent to the server (never to storage). */
  token?: string;
  /** Called before every server request for a fresh token. */
  getToken?: () => Promise<string>;
  /** Parts in flight at once (default 4, at most 6). */
  concurrency?: number;
  /** Retries of a failed request on network errors and 5xx (default 4). */
  retries?: number;
  /** Where resumable multipart state is kept (default `localStorage`); `null` disables resume. */
  storage?: Storage | null;
  /** Overrides `fetch` (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Overrides `XMLHttpRequest` (tests). */
  XMLHttpRequest?: new () => XhrLike;
  /** Overrides the backoff sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Base delay of the exponential backoff in ms (default 500). */
  backoffMs?: number;
  /** Delay between `being_verified` retries of complete in ms (default 1000). */
  verifyRetryMs?: number;
}

export interface Uploader {
  upload(file: UploadSource, options: UploadOptions): Promise<UploadView>;
  /** Aborts a pending upload (or deletes an uploaded one) by id. */
  abort(id: string): Promise<UploadView>;
}

/** Every failure of the client; `message` is the server's reason when it gave one. */
export class UploadError extends Error {
  readonly code: string;
  readonly status?: number;
  readonly upload?: UploadView;
  constructor(message: string, code: string, status?: number, upload?: UploadView) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    if (status !== undefined) this.status = status;
    if (upload !== undefined) this.upload = upload;
  }
}

// ------------------------------------------------------------ helpers --

const CHUNK = 4 * 1024 * 1024;
const MAX_PARTS_PER_CALL = 1000;
const SIGN_BATCH = 100;
/** Re-sign a part URL that expires within this many ms. */
const EXPIRY_MARGIN_MS = 30_000;
const VERIFY_RETRIES = 8;
const STORAGE_PREFIX = "consign:upload:";

interface StoredEntry {
  id: string;
  partSize: number;
  partCount: number;
  parts: Record<string, string>;
}

interface ServerPart {
  PartNumber: number;
  ETag: string;
  Size: number;
}

interface XhrResult {
  status: number;
  text: string;
  header(name: string): string | null;
}

function abortError(upload?: UploadView): UploadError {
  return new UploadError("the upload was aborted", "aborted", undefined, upload);
}

function isAbort(e: unknown): boolean {
  return e instanceof UploadError && e.code === "aborted";
}

/** A retryable failure: network error, timeout, 5xx, 408 or 429. */
function retryable(e: unknown): boolean {
  if (!(e instanceof UploadError)) return false;
  if (e.code === "network") return true;
  const s = e.status;
  return s !== undefined && (s >= 500 || s === 408 || s === 429);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

/** The `<Code>` and `<Message>` of an S3 XML error body. */
function s3Error(text: string): { code?: string; message?: string } {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const out: { code?: string; message?: string } = {};
  if (code !== undefined) out.code = code;
  if (message !== undefined) out.message = message;
  return out;
}

function storageFailure(r: XhrResult, what: string): UploadError {
  const { code, message } = s3Error(r.text);
  const reason = message ?? (r.text.trim().slice(0, 200) || `HTTP ${r.status}`);
  return new UploadError(`storage refused ${what}: ${reason}`, code ?? "storage_error", r.status);
}

function expiredUrl(r: XhrResult): boolean {
  return r.status === 403 && (/Request has expired/i.test(r.text) || /<Code>AccessDenied<\/Code>/.test(r.text));
}

/** `promise`, or a rejection with code "aborted" as soon as `signal` fires. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function defaultStorage(): Storage | null {
  try {
    return typeof localStorage !== "undefined" ? localStorage : null;
  } catch {
    return null;
  }
}

/** Incremental checksum over `file.slice()` chunks, base64 of the digest. */
export async function computeChecksum(
  file: Blob,
  algorithm: ChecksumAlgorithm,
  signal?: AbortSignal,
): Promise<string> {
  const hasher =
    algorithm === "md5" ? await createMD5() : algorithm === "sha256" ? await createSHA256() : await createCRC32(0x82f63b78);
  hasher.init();
  for (let offset = 0; offset < file.size; offset += CHUNK) {
    if (signal?.aborted) throw abortError();
    const buffer = await file.slice(offset, Math.min(offset + CHUNK, file.size)).arrayBuffer();
    hasher.update(new Uint8Array(buffer));
  }
  return toBase64(hasher.digest("binary"));
}

/**
 * The least time between two progress reports. Browsers fire upload progress
 * for every request in flight many times a second, and each report usually
 * redraws the page; ten a second look smooth and keep the page's rendering
 * from competing with the upload for the CPU.
 */
const PROGRESS_INTERVAL_MS = 100;

/** Tracks bytes on the wire and reports monotonic progress, at most every `PROGRESS_INTERVAL_MS`. */
class ProgressMeter {
  private reported = 0;
  private readonly inFlight = new Map<number, number>();
  private confirmed = 0;
  private readonly samples: Array<[number, number]> = [];
  private lastReport = -Infinity;
  private pending: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly total: number,
    private readonly callback: ((p: Progress) => void) | undefined,
  ) {}

  /** Bytes already in storage before this session sent anything. */
  preload(bytes: number): void {
    this.confirmed += bytes;
    this.reported = Math.max(this.reported, Math.min(this.confirmed, this.total));
    this.samples.length = 0;
    this.emit(false, true);
  }

  update(slot: number, loaded: number): void {
    this.inFlight.set(slot, loaded);
    this.schedule();
  }

  done(slot: number, bytes: number): void {
    this.inFlight.delete(slot);
    this.confirmed += bytes;
    this.schedule();
  }

  /** A failed attempt: its bytes no longer count (progress holds still). */
  reset(slot: number): void {
    this.inFlight.delete(slot);
  }

  finish(): void {
    this.stop();
    this.reported = this.total;
    this.emit(true, true);
  }

  /** No more reports (the upload ended, however it ended). */
  stop(): void {
    if (this.pending !== null) clearTimeout(this.pending);
    this.pending = null;
  }

  /** Reports now if the last report is old enough or every byte is confirmed, else once the interval is over. */
  private schedule(): void {
    const allConfirmed = this.confirmed >= this.total;
    if (this.pending !== null && !allConfirmed) return;
    const wait = this.lastReport + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0 || allConfirmed) {
      this.stop();
      this.emit(false);
      return;
    }
    this.pending = setTimeout(() => {
      this.pending = null;
      this.emit(false);
    }, wait);
  }

  private emit(finished: boolean, force = false): void {
    let current = this.confirmed;
    for (const v of this.inFlight.values()) current += v;
    const loaded = Math.max(this.reported, Math.min(current, this.total));
    if (loaded === this.reported && !force) return;
    this.reported = loaded;
    const now = Date.now();
    this.lastReport = now;
    this.samples.push([now, loaded]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (now - first[0]) / 1000;
    const bytesPerSecond = elapsed > 0 ? (loaded - first[1]) / elapsed : 0;
    const left = this.total - loaded;
    const percent = finished
      ? 100
      : this.total === 0
        ? 0
        : Math.min(99.9, Math.floor((loaded / this.total) * 1000) / 10);
    this.callback?.({
      loaded,
      total: this.total,
      percent,
      bytesPerSecond,
      secondsLeft: finished ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null,
    });
  }
}

// ------------------------------------------------------------- client --

/** Creates an uploader bound to one Consign server. */
export function createUploader(config: UploaderOptions): Uploader {
  const endpoint = config.endpoint.replace(/\/+$/, "");
  const concurrency = Math.max(1, Math.min(6, Math.floor(config.concurrency ?? 4)));
  const retries = Math.max(0, Math.floor(config.retries ?? 4));
  const storage = config.storage === undefined ? defaultStorage() : config.storage;
  const backoffMs = config.backoffMs ?? 500;
  const verifyRetryMs = config.verifyRetryMs ?? 1000;
  const doFetch = (...args: Parameters<typeof fetch>) => (config.fetch ?? globalThis.fetch)(...args);
  const Xhr = () => {
    const C = config.XMLHttpRequest ?? (globalThis as unknown as { XMLHttpRequest: new () => XhrLike }).XMLHttpRequest;
    return new C();
  };
  const sleepRaw = config.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const sleep = (ms: number, signal?: AbortSignal) => (signal ? abortable(sleepRaw(ms), signal) : sleepRaw(ms));
  const backoff = (attempt: number) => backoffMs * 2 ** attempt * (0.5 + Math.random() * 0.5);

  // ---- storage (resume state); every access tolerates a broken storage --
  const load = (key: string): StoredEntry | null => {
    try {
      const raw = storage?.getItem(key);
      if (!raw) return null;
      const v = JSON.parse(raw) as StoredEntry;
      return typeof v.id === "string" && typeof v.partSize === "number" && v.parts ? v : null;
    } catch {
      return null;
    }
  };
  const save = (key: string, entry: StoredEntry) => {
    try {
      storage?.setItem(key, JSON.stringify(entry));
    } catch {
      /* quota or private mode: resume just won't work */
    }
  };
  const forget = (key: string) => {
    try {
      storage?.removeItem(key);
    } catch {
      /* ignore */
    }
  };
  const forgetId = (id: string) => {
    if (!storage) return;
    try {
      for (let i = storage.length - 1; i >= 0; i--) {
        const k = storage.key(i);
        if (k?.startsWith(STORAGE_PREFIX) && load(k)?.id === id) storage.removeItem(k);
      }
    } catch {
      /* ignore */
    }
  };

  // ---- server API ---------------------------------------------------------
  async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortError();
      try {
        return await apiOnce<T>(method, path, body, signal);
      } catch (e) {
        if (!retryable(e) || attempt >= retries || signal?.aborted) throw e;
        await sleep(backoff(attempt), signal);
      }
    }
  }

  async function apiOnce<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const token = config.getToken ? await config.getToken() : config.token;
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers["authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    let response: Response;
    try {
      response = await doFetch(endpoint + path, init);
    } catch (e) {
      if (signal?.aborted) throw abortError();
      throw new UploadError(`could not reach the server: ${e instanceof Error ? e.message : String(e)}`, "network");
    }
    const text = await response.text().catch(() => "");
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (response.ok) return json as T;
    const err = (json ?? {}) as { error?: string; code?: string; upload?: UploadView };
    throw new UploadError(
      err.error ?? (text.trim().slice(0, 200) || `HTTP ${response.status}`),
      err.code ?? `http_${response.status}`,
      response.status,
      err.upload,
    );
  }

  // ---- storage requests (XHR for upload progress) -------------------------
  function send(
    method: string,
    url: string,
    body: Blob | FormData,
    headers: Record<string, string>,
    onProgress: (loaded: number) => void,
    signal: AbortSignal,
  ): Promise<XhrResult> {
    return new Promise<XhrResult>((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      const xhr = Xhr();
      const cleanup = () => signal.removeEventListener("abort", onAbort);
      const onAbort = () => {
        cleanup();
        xhr.abort();
        reject(abortError());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers)) {
        const lower = name.toLowerCase();
        if (lower === "content-length" || lower === "host") continue;
        xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        cleanup();
        resolve({ status: xhr.status, text: xhr.responseText ?? "", header: (n) => xhr.getResponseHeader(n) });
      };
      const fail = (why: string) => () => {
        cleanup();
        if (signal.aborted) return reject(abortError());
        reject(new UploadError(`network error while sending to storage (${why})`, "network"));
      };
      xhr.onerror = fail("connection failed");
      xhr.ontimeout = fail("timed out");
      xhr.onabort = fail("aborted by the browser");
      xhr.send(body);
    });
  }

  // ---- single-request uploads ---------------------------------------------
  async function single(file: UploadSource, grant: PutGrant | PostGrant, meter: ProgressMeter, signal: AbortSignal) {
    for (let attempt = 0; ; attempt++) {
      try {
        let r: XhrResult;
        if (grant.method === "PUT") {
          r = await send("PUT", grant.url, file, grant.headers, (n) => meter.update(0, n), signal);
        } else {
          const form = new FormData();
          for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
          form.append("file", file, file.name);
          // Form overhead makes e.loaded exceed the file size slightly; the meter caps it.
          r = await send("POST", grant.url, form, {}, (n) => meter.update(0, n), signal);
        }
        if (r.status >= 200 && r.status < 300) {
          meter.done(0, file.size);
          return;
        }
        if (expiredUrl(r) && /expired/i.test(r.text)) {
          throw new UploadError("the upload URL expired before the file was sent; start the upload again", "expired", 403);
        }
        throw storageFailure(r, "the file");
      } catch (e) {
        meter.reset(0);
        if (!retryable(e) || attempt >= retries || signal.aborted) throw e;
        await sleep(backoff(attempt), signal);
      }
    }
  }

  // ---- multipart ------------------------------------------------------------
  async function multipart(
    file: UploadSource,
    upload: UploadView,
    partSize: number,
    partCount: number,
    done: Map<number, string>,
    storeKey: string,
    meter: ProgressMeter,
    signal: AbortSignal,
  ): Promise<void> {
    const id = upload.id;
    const sizeOf = (n: number) => Math.min(partSize, file.size - (n - 1) * partSize);
    const persist = () => save(storeKey, { id, partSize, partCount, parts: Object.fromEntries(done) });
    persist();

    const todo: number[] = [];
    for (let n = 1; n <= partCount; n++) if (!done.has(n)) todo.push(n);
    const urls = new Map<number, { url: string; expires: number }>();
    let signing: Promise<void> | null = null;

    const sign = async (numbers: number[]) => {
      for (let i = 0; i < numbers.length; i += MAX_PARTS_PER_CALL) {
        const batch = numbers.slice(i, i + MAX_PARTS_PER_CALL);
        const r = await api<{ parts: Array<{ part_number: number; url: string; expires_at: string }> }>(
          "POST",
          `/v1/uploads/${encodeURIComponent(id)}/parts`,
          { part_numbers: batch },
          signal,
        );
        for (const p of r.parts) {
          const expires = Date.parse(p.expires_at);
          urls.set(p.part_number, { url: p.url, expires: Number.isNaN(expires) ? Infinity : expires });
        }
      }
    };

    const fresh = (n: number) => {
      const u = urls.get(n);
      return u && u.expires - EXPIRY_MARGIN_MS > Date.now() ? u.url : null;
    };
    const urlFor = async (n: number): Promise<string> => {
      const known = fresh(n);
      if (known) return known;
      if (signing) {
        await signing;
        const again = fresh(n);
        if (again) return again;
      }
      // Sign this part and the next few waiting parts without a usable URL, in one call.
      const batch = [n, ...todo.filter((m) => m !== n && !fresh(m)).slice(0, SIGN_BATCH - 1)];
      signing = sign(batch).finally(() => {
        signing = null;
      });
      await signing;
      const signed = urls.get(n);
      if (!signed) throw new UploadError(`the server signed no URL for part ${n}`, "parts_missing");
      return signed.url; // even if the clocks disagree about its expiry: storage decides
    };

    const sendPart = async (n: number) => {
      const start = (n - 1) * partSize;
      const blob = file.slice(start, start + sizeOf(n));
      let expiredRetries = 0;
      for (let attempt = 0; ; ) {
        try {
          const url = await urlFor(n);
          const r = await send("PUT", url, blob, {}, (loaded) => meter.update(n, loaded), signal);
          if (r.status >= 200 && r.status < 300) {
            const etag = r.header("ETag") ?? r.header("etag");
            if (!etag) {
              throw new UploadError(
                "storage did not expose the ETag header of a part (its CORS rules must list ETag in ExposeHeaders)",
                "etag_missing",
                r.status,
              );
            }
            meter.done(n, blob.size);
            done.set(n, etag);
            persist();
            return;
          }
          if (expiredUrl(r) && expiredRetries < 2) {
            // The signed URL ran out (or storage refused it): ask for a fresh one.
            meter.reset(n);
            expiredRetries++;
            urls.delete(n);
            continue;
          }
          throw storageFailure(r, `part ${n}`);
        } catch (e) {
          meter.reset(n);
          if (!retryable(e) || attempt >= retries || signal.aborted) throw e;
          await sleep(backoff(attempt), signal);
          attempt++;
        }
      }
    };

    let failure: unknown = null;
    const worker = async () => {
      while (failure === null) {
        const n = todo.shift();
        if (n === undefined) return;
        try {
          await sendPart(n);
        } catch (e) {
          if (failure === null) failure = e;
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  }

  async function complete(id: string, parts?: Map<number, string>): Promise<UploadView> {
    const body = parts
      ? {
          parts: [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([part_number, etag]) => ({ part_number, etag })),
        }
      : {};
    for (let attempt = 0; ; attempt++) {
      try {
        return await api<UploadView>("POST", `/v1/uploads/${encodeURIComponent(id)}/complete`, body);
      } catch (e) {
        if (e instanceof UploadError && e.code === "being_verified" && attempt < VERIFY_RETRIES) {
          await sleep(verifyRetryMs);
          continue;
        }
        throw e;
      }
    }
  }

  /** A pending multipart upload to resume, with the parts storage holds. */
  async function resumable(key: string, file: UploadSource, signal: AbortSignal) {
    const entry = load(key);
    if (!entry) return null;
    try {
      const view = await api<UploadView>("GET", `/v1/uploads/${encodeURIComponent(entry.id)}`, undefined, signal);
      const mp = view.multipart;
      if (view.state !== "pending" || !mp || mp.part_size !== entry.partSize || view.size !== file.size) {
        forget(key);
        return null;
      }
      const held = await api<{ parts: ServerPart[] }>(
        "GET",
        `/v1/uploads/${encodeURIComponent(entry.id)}/parts`,
        undefined,
        signal,
      );
      const done = new Map<number, string>();
      for (const p of held.parts ?? []) {
        const expected = Math.min(mp.part_size, file.size - (p.PartNumber - 1) * mp.part_size);
        if (p.PartNumber >= 1 && p.PartNumber <= mp.part_count && p.Size === expected && p.ETag) {
          done.set(p.PartNumber, p.ETag);
        }
      }
      return { view, partSize: mp.part_size, partCount: mp.part_count, done };
    } catch (e) {
      if (isAbort(e) || signal.aborted) throw e;
      if (retryable(e)) throw e; // server trouble: keep the entry for next time
      forget(key);
      return null;
    }
  }

  async function create(file: UploadSource, options: UploadOptions, signal: AbortSignal) {
    const body: Record<string, unknown> = {
      profile: options.profile,
      filename: file.name,
      content_type: options.contentType ?? (file.type || "application/octet-stream"),
      size: file.size,
    };
    if (options.metadata) body["metadata"] = options.metadata;
    if (options.method) body["method"] = options.method;
    const withChecksum = async (algorithm: ChecksumAlgorithm) => {
      body["checksum"] = { algorithm, value: await computeChecksum(file, algorithm, signal) };
    };
    if (options.checksum) await withChecksum(options.checksum);
    if (signal.aborted) throw abortError();
    // Not tied to the signal: once sent, the id must come back so it can be deleted.
    try {
      return await api<{ upload: UploadView; grant: Grant }>("POST", "/v1/uploads", body);
    } catch (e) {
      if (e instanceof UploadError && e.code === "checksum_required" && options.checksum === undefined) {
        await withChecksum("md5");
        if (signal.aborted) throw abortError();
        return await api<{ upload: UploadView; grant: Grant }>("POST", "/v1/uploads", body);
      }
      throw e;
    }
  }

  async function abort(id: string): Promise<UploadView> {
    for (let attempt = 0; ; attempt++) {
      try {
        const view = await api<UploadView>("DELETE", `/v1/uploads/${encodeURIComponent(id)}`);
        forgetId(id);
        return view;
      } catch (e) {
        if (e instanceof UploadError && e.code === "being_verified" && attempt < 3) {
          await sleep(verifyRetryMs);
          continue;
        }
        throw e;
      }
    }
  }

  async function upload(file: UploadSource, options: UploadOptions): Promise<UploadView> {
    const outer = options.signal;
    if (outer?.aborted) throw abortError();
    // Internal controller: the caller's signal, or a failing part, stops every request.
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort();
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    const signal = controller.signal;
    const meter = new ProgressMeter(file.size, options.onProgress);
    const lastModified = (file as { lastModified?: number }).lastModified ?? 0;
    const storeKey = `${STORAGE_PREFIX}${endpoint}|${options.profile}|${file.name}|${file.size}|${lastModified}`;
    // Known before the lookup so that an abort during it still deletes the upload.
    let id: string | null = load(storeKey)?.id ?? null;
    let completing = false;
    try {
      const resumed = await resumable(storeKey, file, signal);
      if (!resumed) id = null;
      if (resumed) {
        id = resumed.view.id;
        let already = 0;
        for (const n of resumed.done.keys()) already += Math.min(resumed.partSize, file.size - (n - 1) * resumed.partSize);
        meter.preload(already);
        await multipart(file, resumed.view, resumed.partSize, resumed.partCount, resumed.done, storeKey, meter, signal);
        if (outer?.aborted) throw abortError();
        completing = true;
        const view = await complete(id, resumed.done);
        forget(storeKey);
        meter.finish();
        return view;
      }
      const { upload: created, grant } = await create(file, options, signal);
      id = created.id;
      if (signal.aborted) throw abortError();
      let parts: Map<number, string> | undefined;
      if (grant.method === "MULTIPART") {
        parts = new Map();
        await multipart(file, created, grant.part_size, grant.part_count, parts, storeKey, meter, signal);
      } else {
        await single(file, grant, meter, signal);
      }
      if (outer?.aborted) throw abortError();
      completing = true;
      const view = await complete(id, parts);
      forget(storeKey);
      meter.finish();
      return view;
    } catch (e) {
      controller.abort(); // stop the other parts still in flight
      if (outer?.aborted && !completing) {
        let view: UploadView | undefined;
        if (id !== null) {
          try {
            view = await abort(id);
          } catch {
            /* best effort: the server's reaper expires it anyway */
          }
        }
        forget(storeKey);
        throw abortError(view);
      }
      if (e instanceof UploadError && e.code === "rejected") forget(storeKey);
      if (e instanceof UploadError) throw e;
      throw new UploadError(e instanceof Error ? e.message : String(e), "unexpected");
    } finally {
      meter.stop();
      outer?.removeEventListener("abort", onOuterAbort);
    }
  }

  return { upload, abort };
}
