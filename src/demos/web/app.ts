// The demo page: the health diagnosis and the image filter, each a deployed model or circuit reached
// through the browser client that `umbra serve` publishes at /browser/ (keys made in its Web Worker and
// kept in IndexedDB). This file holds the page's behaviour only; the filters' and the diagnosis's clear
// steps come from ../filters.ts and ../symptoms.ts, the same code the Node tests check.
import {
  FILTERS, IMAGE_SIZE, type FilterSpec, type GreyImage, filterInput, filterModelId, filterSpec, finishFilter, greyFromRgba, sampleImage,
} from "../filters.js";
import { SYMPTOMS, topDiagnoses } from "../symptoms.js";
import type { ProgressEvent, RemoteModel, ServerApi } from "../../client/index.js";

// The browser client is not bundled into this page: it is loaded from where `umbra serve` publishes it,
// next to its key-generation worker. Its types are umbra/client's.
type ClientModule = typeof import("../../client/index.js");
type Connection = RemoteModel;
type Phase = ProgressEvent["phase"];
const CLIENT_URL = "/browser/umbra-client.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page lacks #${id}`);
  return el as T;
};
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
const size = (n: number): string => (n < 1024 ? `${n} B` : n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const hex = (b: Uint8Array, from: number, n: number): string => Array.from(b.subarray(from, from + n), (x) => x.toString(16).padStart(2, "0")).join(" ");
const base64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));

// --- progress: every phase is shown as it starts, with a running clock, so the page never looks frozen ---
const PHASES: Record<Phase, string> = {
  spec: "Fetching the model's public description",
  keygen: "Making keys in a background worker",
  upload: "Uploading evaluation keys",
  encrypt: "Encrypting",
  server: "Server computing on ciphertexts",
  decrypt: "Decrypting",
};
let running: { phase: Phase; li: HTMLLIElement; t0: number } | undefined;
let clock: number | undefined;

function onProgress(e: ProgressEvent): void {
  if (e.state === "start") {
    const li = el("li", {}, `${PHASES[e.phase]}…`);
    $("steps").append(li);
    running = { phase: e.phase, li, t0: performance.now() };
    $("status").textContent = `${PHASES[e.phase]}…`;
    $("progress").hidden = false;
  } else if (e.state === "step" && running !== undefined) {
    running.li.textContent = `${PHASES[e.phase]}: ${e.detail ?? ""}…`;
  } else if (e.state === "end") {
    const li = running?.phase === e.phase ? running.li : el("li");
    li.textContent = `${PHASES[e.phase]}: ${e.ms === undefined ? "done" : `${(e.ms / 1000).toFixed(2)} s`}${e.bytes ? `, ${size(e.bytes)}` : ""}`;
    li.className = "done";
    running = undefined;
    if (e.phase === "upload" && e.bytes !== undefined) $("eval-keys").textContent = `${size(e.bytes)} uploaded (they let the server compute lookups; they cannot decrypt)`;
  }
}

function tick(): void {
  if (running !== undefined) running.li.textContent = `${running.li.textContent!.replace(/ \(\d+\.\d s\)…$|…$/, "")} (${((performance.now() - running.t0) / 1000).toFixed(1)} s)…`;
}

function showBytes(id: "sent" | "received", b: Uint8Array): void {
  // The head of the body (frame header and the first ciphertext's start) and a slice from its middle.
  const mid = Math.max(0, Math.floor(b.length / 2) - 8);
  $(id).replaceChildren(`${size(b.length)} of ciphertexts`, el("br"), el("span", { className: "hex" }, `${hex(b, 0, 24)} … ${hex(b, mid, 16)} …`));
  $(id).dataset.bytes = String(b.length);
}

async function task<T>(what: string, button: HTMLButtonElement, work: () => Promise<T>): Promise<T | undefined> {
  button.disabled = true;
  $("steps").replaceChildren();
  document.body.dataset.state = "busy";
  clock = window.setInterval(tick, 100);
  try {
    const r = await work();
    $("status").textContent = `${what}: done.`;
    document.body.dataset.state = "done";
    return r;
  } catch (e) {
    $("status").textContent = `${what} failed: ${(e as Error).message}`;
    $("steps").append(el("li", { className: "error" }, (e as Error).message));
    document.body.dataset.state = "error";
    return undefined;
  } finally {
    window.clearInterval(clock);
    $("progress").hidden = true;
    button.disabled = false;
  }
}

// --- connections: one per model, made on first use (the secret key is per parameter set, shared) ---
let clientModule: Promise<ClientModule> | undefined;
const connections = new Map<string, Promise<Connection>>();

function connection(modelId: string): Promise<Connection> {
  let c = connections.get(modelId);
  if (c === undefined) {
    clientModule ??= import(CLIENT_URL) as Promise<ClientModule>;
    c = clientModule.then((m) => m.connect(location.origin, modelId, { onProgress })).then((conn) => {
      watchBytes(conn.api);
      describeKeys(conn);
      return conn;
    });
    c.catch(() => connections.delete(modelId));
    connections.set(modelId, c);
  }
  return c;
}

/** Shows each request body as it leaves and each response as it arrives: exactly the bytes on the wire. */
function watchBytes(api: ServerApi): void {
  const predict = api.predict.bind(api);
  api.predict = async (modelId, body, keyId) => {
    showBytes("sent", body);
    $("received").textContent = "waiting…";
    const response = await predict(modelId, body, keyId);
    showBytes("received", response);
    return response;
  };
}

function describeKeys(c: Connection): void {
  const k = c.keys;
  const made = k.reused ? "your secret key for these parameters, already kept in this browser (IndexedDB) from before" : `a new secret key, made in a background worker in ${(k.keygenMs / 1000).toFixed(1)} s and kept in this browser for your next visit`;
  const evalKeys = c.client.linearOnly ? "this one needs no evaluation keys (no lookups)" : k.uploads > 0 ? `its evaluation keys were uploaded (${size(k.evaluationKeyBytes ?? 0)})` : "the server already had its evaluation keys from an earlier visit";
  $("keys-note").textContent = `Keys (parameters ${c.client.params.name}): ${made}; ${evalKeys}.`;
  $("keys-note").dataset.reused = String(k.reused);
  if (c.client.linearOnly) $("eval-keys").textContent = "none needed (no lookups)";
  else if (k.uploads === 0) $("eval-keys").textContent = `already uploaded earlier (key id ${c.keyId?.slice(0, 8)}…)`;
}

// --- tabs (WAI-ARIA tabs: arrow keys move between them) ---
function setupTabs(): void {
  const tabs = Array.from(document.querySelectorAll<HTMLButtonElement>('[role="tab"]'));
  const select = (t: HTMLButtonElement): void => {
    for (const o of tabs) {
      const on = o === t;
      o.setAttribute("aria-selected", String(on));
      o.tabIndex = on ? 0 : -1;
      $(o.getAttribute("aria-controls")!).hidden = !on;
    }
  };
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e) => {
      const j = e.key === "ArrowRight" ? (i + 1) % tabs.length : e.key === "ArrowLeft" ? (i + tabs.length - 1) % tabs.length : -1;
      if (j < 0) return;
      e.preventDefault();
      tabs[j]!.focus();
      select(tabs[j]!);
    });
  });
}

// --- health ---
function setupHealth(): void {
  const list = $("symptom-list");
  SYMPTOMS.forEach((name, j) => {
    const box = el("input", { type: "checkbox", value: String(j), id: `symptom-${j}` });
    list.append(el("li", {}, el("label", { htmlFor: box.id }, box, name)));
  });
  const boxes = Array.from(list.querySelectorAll<HTMLInputElement>("input"));
  const ticked = (): number[] => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  const update = (): void => {
    const n = ticked().length;
    $("symptom-count").textContent = n === 0 ? "(none ticked)" : `(${n} ticked)`;
    $<HTMLButtonElement>("diagnose").disabled = n === 0;
  };
  list.addEventListener("change", update);
  $("symptom-search").addEventListener("input", (e) => {
    const q = (e.target as HTMLInputElement).value.trim().toLowerCase();
    for (const b of boxes) b.closest("li")!.hidden = q !== "" && !SYMPTOMS[Number(b.value)]!.includes(q);
  });
  $("clear-symptoms").addEventListener("click", () => {
    for (const b of boxes) b.checked = false;
    update();
  });
  $("diagnose").addEventListener("click", () => void task("Diagnosis", $<HTMLButtonElement>("diagnose"), async () => {
    const on = ticked();
    const x = SYMPTOMS.map((_, j) => (on.includes(j) ? 1 : 0));
    $("user-view").replaceChildren(`You ticked ${on.length} of ${SYMPTOMS.length} symptoms: ${on.map((j) => SYMPTOMS[j]).join(", ")}.`);
    const m = await connection("diagnosis");
    const [proba] = await m.predictProba([x]);
    const classes = (m.client.model?.spec.classes ?? []).map(String);
    const top = topDiagnoses(proba!, classes, 5);
    $("diagnoses").replaceChildren(...top.map((d) => {
      const fill = el("span");
      fill.style.width = `${(100 * d.probability).toFixed(1)}%`;
      return el("li", {}, `${d.disease} — ${(100 * d.probability).toFixed(1)}%`, el("span", { className: "bar" }, fill));
    }));
    $("diagnoses").dataset.result = JSON.stringify(top);
    $("user-view").append(el("br"), `Decrypted here: ${top[0]!.disease} (${(100 * top[0]!.probability).toFixed(1)}%).`);
  }));
  update();
}

// --- image ---
let image: GreyImage = sampleImage(IMAGE_SIZE);

function draw(canvas: HTMLCanvasElement, img: GreyImage): void {
  canvas.width = canvas.height = img.size;
  const ctx = canvas.getContext("2d")!;
  const data = ctx.createImageData(img.size, img.size);
  img.pixels.forEach((v, i) => data.data.set([v, v, v, 255], 4 * i));
  ctx.putImageData(data, 0, 0);
  canvas.dataset.grey = base64(img.pixels);
}

/** The picture's centred square, drawn into size × size pixels (the browser's smoothing), in grey. */
async function shrink(file: File, n: number): Promise<GreyImage> {
  const bitmap = await createImageBitmap(file);
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = n;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, n, n);
  bitmap.close();
  return greyFromRgba(ctx.getImageData(0, 0, n, n).data, n);
}

function setupImage(): void {
  document.querySelectorAll(".image-size").forEach((s) => (s.textContent = `${IMAGE_SIZE} × ${IMAGE_SIZE}`));
  const choices = $("filter-choices");
  FILTERS.forEach((f, i) => {
    const radio = el("input", { type: "radio", name: "filter", value: f.id, id: `filter-${f.id}`, checked: i === 0 });
    choices.append(el("label", { htmlFor: radio.id }, radio, f.title));
  });
  const chosen = (): FilterSpec => filterSpec(choices.querySelector<HTMLInputElement>("input:checked")!.value);
  const useImage = (img: GreyImage, what: string): void => {
    image = img;
    draw($<HTMLCanvasElement>("before-canvas"), img);
    $<HTMLCanvasElement>("after-canvas").getContext("2d")!.clearRect(0, 0, img.size, img.size);
    delete $<HTMLCanvasElement>("after-canvas").dataset.grey;
    $("before").dataset.source = what;
    $<HTMLButtonElement>("apply-filter").disabled = false;
  };
  $("use-sample").addEventListener("click", () => useImage(sampleImage(IMAGE_SIZE), "sample"));
  $<HTMLInputElement>("image-file").addEventListener("change", (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file === undefined) return;
    shrink(file, IMAGE_SIZE).then((img) => useImage(img, "file"), (err: Error) => { $("status").textContent = `That picture could not be read: ${err.message}`; });
  });
  $("apply-filter").addEventListener("click", () => void task("Filter", $<HTMLButtonElement>("apply-filter"), async () => {
    const f = chosen(), img = image;
    $("user-view").replaceChildren(`Your ${img.size} × ${img.size} picture${f.kind === "lookup" ? " (16 grey levels for the lookup)" : ""}, filter: ${f.title}.`);
    const m = await connection(filterModelId(f.id));
    const [out] = await m.predict([filterInput(f, img)]) as { data: Float64Array }[];
    const result = finishFilter(f, out!.data, img.size);
    draw($<HTMLCanvasElement>("after-canvas"), result);
    $("after").dataset.filter = f.id;
    $("user-view").append(el("br"), `Decrypted here and ${f.kind === "convolution" ? "scaled to 0–255" : "shown as is"}: the “After” picture.`);
  }));
  useImage(image, "sample");
}

setupTabs();
setupHealth();
setupImage();
$("forget-keys").addEventListener("click", () => void (async () => {
  for (const c of connections.values()) await (await c).forget().catch(() => undefined);
  connections.clear();
  $("keys-note").textContent = "Your keys were deleted from this browser and the server. New ones will be made on the next request.";
})());
$("status").textContent = "Ready. Nothing has been sent.";
document.body.dataset.state = "ready";
