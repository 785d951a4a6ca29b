// The upload page: drop or pick files, one row per file with progress,
// speed, time left, cancel and retry; a gallery of finished uploads.
import { createUploader } from "/assets/consign.js";

const $ = (selector) => document.querySelector(selector);
const status = $("#status");
const token = await obtainToken();
// `?concurrency=` (parts in flight, 1 to 6) is for benchmarks; the client's default is 4.
const concurrency = Number(new URLSearchParams(location.search).get("concurrency")) || undefined;
const uploader = createUploader({ endpoint: location.origin, token, concurrency });
const profiles = await api("/v1/profiles").then((body) => body.profiles);
const select = $("#profile");
for (const profile of profiles) {
  const option = new Option(`${profile.name} (${profile.content_types.join(", ")}, up to ${size(profile.max_size)})`, profile.name);
  select.append(option);
}
select.value = profiles.some((p) => p.name === "images") ? "images" : profiles[0]?.name;
select.addEventListener("change", hint);
hint();
refreshGallery();

async function obtainToken() {
  const given = new URLSearchParams(location.search).get("token");
  if (given) return given;
  const response = await fetch("/v1/dev/token", { method: "POST" });
  if (!response.ok) {
    status.textContent = "This server hands out no demo tokens: open this page as /?token=<an upload token from your backend>.";
    throw new Error("no token");
  }
  return (await response.json()).token;
}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function size(bytes) {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  for (const unit of units) {
    value /= 1000;
    if (value < 1000) return `${value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
  }
  return `${value.toFixed(1)} PB`;
}

function duration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s left`;
}

function hint() {
  const profile = profiles.find((p) => p.name === select.value);
  $("#drop-hint").textContent = profile
    ? `Accepts ${profile.content_types.join(", ")} up to ${size(profile.max_size)}.`
    : "";
}

const drop = $("#drop");
const picker = $("#picker");
drop.addEventListener("click", () => picker.click());
drop.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    picker.click();
  }
});
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  for (const file of event.dataTransfer.files) start(file);
});
picker.addEventListener("change", () => {
  for (const file of picker.files) start(file);
  picker.value = "";
});

function start(file) {
  const row = $("#row").content.firstElementChild.cloneNode(true);
  row.dataset.filename = file.name;
  row.querySelector(".name").textContent = file.name;
  $("#rows").prepend(row);
  const bar = row.querySelector("progress");
  const detail = row.querySelector(".detail");
  const cancel = row.querySelector(".cancel");
  const retry = row.querySelector(".retry");
  const profile = select.value;
  const run = async () => {
    const controller = new AbortController();
    row.className = "row";
    cancel.hidden = false;
    retry.hidden = true;
    cancel.onclick = () => controller.abort();
    detail.textContent = "Asking for permission…";
    try {
      const upload = await uploader.upload(file, {
        profile,
        signal: controller.signal,
        onProgress: (p) => {
          bar.value = p.percent;
          row.dataset.percent = String(p.percent);
          const speed = p.bytesPerSecond ? ` · ${size(p.bytesPerSecond)}/s · ${duration(p.secondsLeft)}` : "";
          detail.textContent = `${size(p.loaded)} of ${size(p.total)} (${Math.floor(p.percent)}%)${speed}`;
        },
      });
      bar.value = 100;
      row.dataset.percent = "100";
      row.classList.add("done");
      row.dataset.state = upload.state;
      row.dataset.uploadId = upload.id;
      detail.textContent = `Uploaded and verified (${upload.detected_type || upload.content_type}, ${size(upload.stored_size)})`;
      cancel.hidden = true;
      refreshGallery();
    } catch (error) {
      row.classList.add("failed");
      row.dataset.state = error.code === "aborted" ? "aborted" : "failed";
      detail.textContent = error.code === "aborted" ? "Cancelled; nothing was kept." : error.message;
      cancel.hidden = true;
      // A refusal (4xx) says what to change; retrying helps only after a network error, a 5xx or a timeout.
      const transient = !error.status || error.status >= 500 || [408, 409, 429].includes(error.status);
      retry.hidden = error.code === "aborted" || !transient;
      refreshGallery();
    }
  };
  retry.onclick = run;
  run();
}

async function refreshGallery() {
  const { uploads } = await api("/v1/uploads?limit=24");
  const gallery = $("#gallery");
  gallery.replaceChildren();
  for (const upload of uploads.filter((u) => u.state !== "pending" && u.state !== "verifying")) {
    const item = document.createElement("li");
    item.dataset.uploadId = upload.id;
    const label = document.createElement("div");
    label.textContent = upload.filename;
    const state = document.createElement("span");
    state.className = `state ${upload.state}`;
    state.textContent = upload.state;
    if (upload.state === "uploaded" && (upload.detected_type || upload.content_type).startsWith("image/")) {
      const image = document.createElement("img");
      image.alt = upload.filename;
      api(`/v1/files/${upload.id}/url?disposition=inline`).then((link) => (image.src = link.url), () => {});
      item.append(image);
    }
    item.append(label, state);
    if (upload.reason) {
      const reason = document.createElement("div");
      reason.textContent = upload.reason;
      item.append(reason);
    }
    gallery.append(item);
  }
}
