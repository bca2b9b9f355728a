// The page over the /v1 API. Every string from the server goes into the page as text (textContent),
// never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_SHOWN = 2000;
let entries = [];
let current = { ref: "", bytes: null, path: "" };
let objectUrl = null;

function status(text, error) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function token() {
  return $("token").value.trim();
}

async function api(path, params, binary) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const res = await fetch(`${path}?${new URLSearchParams(params)}`, { headers });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      message = (await res.json()).error.message;
    } catch {}
    throw new Error(message);
  }
  return binary ? res : res.json();
}

async function send(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const res = await fetch(path, { method, headers, body: JSON.stringify(body) });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(doc.error ? doc.error.message : `HTTP ${res.status}`);
  return doc;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function size(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}

async function openImage(ref) {
  current = { ref, bytes: null, path: "" };
  $("file").hidden = true;
  status(`Opening ${ref}…`);
  try {
    const [info, history] = await Promise.all([api("/v1/inspect", { ref }), api("/v1/history", { ref })]);
    $("summary").textContent = `${info.reference} · ${info.platform} · ${info.layers.length} layers, ${size(info.totalSize)} compressed · ${info.digest}`;
    const list = $("layers");
    list.replaceChildren();
    for (const l of info.layers) {
      const li = el("li");
      li.append(el("span", `${size(l.size)} `), el("span", l.digest, "digest"), el("div", l.createdBy ?? "(no build step)"));
      list.append(li);
    }
    const steps = history.steps.filter((s) => s.layer === null);
    if (steps.length) list.append(el("li", `${steps.length} build steps made no layer (metadata only)`));
    $("image").hidden = false;
    status(`Reading the file listings of ${info.layers.length} layers…`);
    const ls = await api("/v1/ls", { ref, recursive: "true" });
    entries = ls.entries;
    $("files").hidden = false;
    renderTree();
    status(`${ref}: ${entries.length} paths`);
  } catch (e) {
    status(e.message, true);
  }
}

function renderTree() {
  const filter = $("filter").value.trim();
  const shown = filter ? entries.filter((e) => e.path.includes(filter)) : entries;
  const tree = $("tree");
  tree.replaceChildren();
  for (const e of shown.slice(0, MAX_SHOWN)) {
    const li = el("li");
    if (e.type === "file" || e.type === "contiguous" || e.type === "symlink" || e.type === "hardlink") {
      const b = el("button", `${e.path}${e.linkname !== undefined ? ` → ${e.linkname}` : ""}  (${size(e.size)})`);
      b.type = "button";
      b.dataset.path = e.path;
      b.addEventListener("click", () => openFile(e.path));
      li.append(b);
    } else li.append(el("span", `${e.path}${e.type === "dir" ? "/" : ` (${e.type})`}`, "other"));
    tree.append(li);
  }
  $("count").textContent = shown.length > MAX_SHOWN ? `${shown.length} paths, the first ${MAX_SHOWN} shown: narrow the filter` : `${shown.length} paths`;
}

function isText(bytes) {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length && off < 1 << 20; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}

function show(mode) {
  const bytes = current.bytes;
  if (!bytes) return;
  $("as-text").setAttribute("aria-pressed", String(mode === "text"));
  $("as-hex").setAttribute("aria-pressed", String(mode === "hex"));
  $("content").textContent = mode === "text" ? new TextDecoder().decode(bytes) : hexDump(bytes);
}

async function openFile(path) {
  status(`Reading ${path}…`);
  try {
    const res = await api("/v1/cat", { ref: current.ref, path }, true);
    const bytes = new Uint8Array(await res.arrayBuffer());
    current.bytes = bytes;
    current.path = path;
    $("file-path").textContent = path;
    const verified = res.headers.get("X-Layerslayer-Verified");
    $("file-meta").textContent = `${size(bytes.length)}, layer ${res.headers.get("X-Layerslayer-Layer") ?? "?"}, ${verified === "true" ? "verified" : "not verified against the layer digest"}`;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    $("download").href = objectUrl;
    $("download").download = path.split("/").pop() || "file";
    $("file").hidden = false;
    show(isText(bytes) ? "text" : "hex");
    status(`${path}: ${size(bytes.length)}`);
    $("content").focus();
  } catch (e) {
    status(e.message, true);
  }
}

async function listCatalog(registry) {
  status(`Listing ${registry}…`);
  try {
    const doc = await api("/v1/catalog", { registry, limit: "500" });
    const list = $("catalog");
    list.replaceChildren();
    for (const name of doc.repositories) {
      const b = el("button", name);
      b.type = "button";
      b.addEventListener("click", async () => {
        try {
          const tags = await api("/v1/tags", { repository: `${registry}/${name}` });
          $("ref").value = `${registry}/${name}:${tags.tags[0] ?? "latest"}`;
          openImage($("ref").value);
        } catch (e) {
          status(e.message, true);
        }
      });
      const li = el("li");
      li.append(b);
      list.append(li);
    }
    status(`${doc.repositories.length} repositories${doc.truncated ? " (more not shown)" : ""}`);
  } catch (e) {
    status(e.message, true);
  }
}

async function searchPaths(pattern) {
  status(`Searching for ${pattern}…`);
  try {
    const doc = await api("/v1/search", { pattern });
    const list = $("hits");
    list.replaceChildren();
    for (const h of doc.hits.slice(0, 500)) {
      const b = el("button", `${h.reference} · layer ${h.layer} · ${h.action} · ${h.path}`);
      b.type = "button";
      b.addEventListener("click", async () => {
        $("ref").value = h.reference;
        await openImage(h.reference);
        if (h.action !== "deleted" && h.action !== "hidden" && h.type === "file") await openFile(h.path);
      });
      const li = el("li");
      li.append(b);
      list.append(li);
    }
    status(`${doc.hits.length} paths found${doc.hits.length > 500 ? ", the first 500 shown" : ""}`);
  } catch (e) {
    status(e.message, true);
  }
}

// Records the image in the server's database (a scan job), polling until it ends, so the search box finds its paths.
async function scanImage(ref) {
  if (!ref) return status("Enter an image reference to scan", true);
  status(`Scanning ${ref}…`);
  try {
    let job = await send("POST", "/v1/scans", { references: [ref] });
    for (let i = 0; i < 7200 && (job.state === "queued" || job.state === "running"); i++) {
      await new Promise((r) => setTimeout(r, 500));
      job = await api(`/v1/scans/${encodeURIComponent(job.id)}`, {});
    }
    const failed = job.images.find((i) => i.error);
    if (job.state !== "done" || failed) throw new Error(`scan ${job.state}: ${(failed || job).error ? (failed || job).error.message : "no result"}`);
    const entries = job.images.reduce((n, i) => n + i.entries, 0);
    status(`Scanned ${ref}: ${entries} entries recorded; the search box finds them`);
  } catch (e) {
    status(e.message, true);
  }
}

$("scan").addEventListener("click", () => scanImage($("ref").value.trim()));
$("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  searchPaths($("search").value.trim());
});
$("open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  openImage($("ref").value.trim());
});
$("catalog-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  listCatalog($("registry").value.trim());
});
$("filter").addEventListener("input", renderTree);
$("as-text").addEventListener("click", () => show("text"));
$("as-hex").addEventListener("click", () => show("hex"));
