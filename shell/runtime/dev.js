// collage dev client. collage dev links it in the head of every page, after
// the client runtime. It follows the dev server's events and brings each
// change into the page, without a reload where it can:
//
//   update {frontend, label, entry, css, integrity, css_only}
//          the runtime mounts the frontend again from its new entry (the
//          other frontends keep their state), and its stylesheets are
//          swapped in place; a frontend that cannot unmount reloads the page
//   reload the page reloads: a layout, collage.yaml or the shared
//          dependencies changed
//   error  {source, frontend, file, line, column, message, frame}
//          shown in the overlay: a build, collage.yaml or a layout, a
//          fragment that failed (with the stack of its BFF's panic), a
//          /bff call that panicked, the Go code that does not build
//   clear  {source, frontend} takes those errors off
//
// The overlay, an element marked data-collage-overlay, also shows the
// page's own errors: an uncaught error, an unhandled rejection, a mount
// that throws, each named by its frontend where its stack tells. A
// frontend's runtime errors go once it is built again. Every event is told
// to the page as a "collage:dev" event on window (detail: type, data).

const eventsPath = "/_collage/dev/events";

// errors are what the overlay shows, by source and frontend.
const errors = new Map();
const keyOf = (source, frontend) => source + "\u0000" + (frontend || "");

function tell(type, data) {
  window.dispatchEvent(new CustomEvent("collage:dev", { detail: { type, data } }));
}

// frontendOf names the frontend whose bundle a URL or a stack points into:
// /assets/NAME/VERSION/FILE. The shared dependencies and the runtime are
// no frontend's (their folders start with "_").
function frontendOf(...texts) {
  for (const t of texts) {
    const m = /\/assets\/([a-z][a-z0-9-]*)\/[^/\s]+\//.exec(String(t || ""));
    if (m) return m[1];
  }
  return "";
}

function setError(e) {
  errors.set(keyOf(e.source, e.frontend), e);
  draw();
}

function clearErrors(source, frontend) {
  for (const [k, e] of errors) {
    if (e.source === source && (!frontend || e.frontend === frontend)) errors.delete(k);
  }
  draw();
}

// The overlay. The page's Content-Security-Policy allows no inline style:
// the overlay styles its elements through the CSSOM, which it allows.
let overlay = null;

function el(tag, style, text) {
  const e = document.createElement(tag);
  Object.assign(e.style, style);
  if (text !== undefined) e.textContent = text;
  return e;
}

const titles = {
  build: "failed to build; the last good build is served",
  config: "cannot be served; the last good config and layouts are",
  fragment: "fragment failed; the slot shows its fallback",
  drift: "its Go template and its component (View) differ",
  bff: "a /bff call panicked",
  go: "does not build or start; the BFFs that last did are served",
  mount: "mount threw",
  runtime: "error in the page",
};

function draw() {
  if (errors.size === 0) {
    overlay?.remove();
    overlay = null;
    return;
  }
  if (!overlay) {
    overlay = el("div", {
      all: "initial",
      position: "fixed",
      left: "0",
      right: "0",
      bottom: "0",
      zIndex: "2147483647",
      maxHeight: "45vh",
      overflow: "auto",
      boxSizing: "border-box",
      padding: "12px 16px",
      background: "rgba(24, 24, 27, 0.96)",
      color: "#f4f4f5",
      font: "13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      borderTop: "3px solid #ef4444",
    });
    overlay.setAttribute("data-collage-overlay", "");
    overlay.setAttribute("role", "alert");
    document.documentElement.appendChild(overlay);
  }
  overlay.replaceChildren();
  const close = el("button", { all: "initial", float: "right", cursor: "pointer", color: "#a1a1aa", font: "inherit" }, "close ✕");
  close.type = "button";
  close.addEventListener("click", () => {
    errors.clear();
    draw();
  });
  overlay.append(close);
  const names = new Set();
  for (const e of errors.values()) {
    if (e.frontend) names.add(e.frontend);
    const item = el("section", { display: "block", margin: "0 0 12px" });
    item.dataset.frontend = e.frontend || "";
    item.dataset.source = e.source;
    const who = e.frontend ? `frontend ${e.frontend}` : e.source === "config" ? "collage.yaml" : e.source === "go" ? "the Go code" : "the page";
    item.append(el("div", { fontWeight: "700", color: "#fca5a5" }, `${who}: ${titles[e.source] || e.source}`));
    if (e.file) {
      const at = e.file + (e.line ? `:${e.line}` + (e.column ? `:${e.column}` : "") : "");
      item.append(el("div", { color: "#93c5fd" }, at));
    }
    item.append(el("div", { whiteSpace: "pre-wrap" }, e.message || ""));
    if (e.frame) item.append(el("pre", { margin: "6px 0 0", whiteSpace: "pre", overflow: "auto", color: "#d4d4d8" }, e.frame));
    overlay.append(item);
  }
  overlay.dataset.frontends = [...names].sort().join(" ");
}

// The page's own errors.
window.addEventListener("error", (e) => {
  if (!(e instanceof ErrorEvent)) return; // a resource that failed to load
  const stack = e.error && e.error.stack;
  setError({
    source: "runtime",
    frontend: frontendOf(e.filename, stack),
    message: String(e.message),
    file: e.filename,
    line: e.lineno,
    column: e.colno,
    frame: stack || "",
  });
});
window.addEventListener("unhandledrejection", (e) => {
  const r = e.reason;
  const stack = r && r.stack;
  setError({ source: "runtime", frontend: frontendOf(stack), message: String((r && r.message) || r), frame: stack || "" });
});
window.addEventListener("collage:error", (e) => {
  const { frontend, error } = e.detail;
  setError({ source: "mount", frontend, message: String((error && error.message) || error), frame: (error && error.stack) || "" });
});

// swapCSS replaces the frontend's stylesheets with those of an update:
// each new one is linked after the old ones, which go once it has loaded,
// so that the page never shows unstyled.
function swapCSS(u) {
  const prefix = `/assets/${u.frontend}/`;
  const old = [...document.querySelectorAll('link[rel="stylesheet"]')].filter((l) => new URL(l.href).pathname.startsWith(prefix));
  const want = u.css || [];
  if (old.length === want.length && old.every((l, i) => new URL(l.href).pathname === want[i])) return Promise.resolve();
  const anchor = old.length ? old[old.length - 1] : null;
  const loads = want.map((href) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    if (u.integrity && u.integrity[href]) link.integrity = u.integrity[href];
    link.href = href;
    const loaded = new Promise((resolve) => {
      link.onload = link.onerror = resolve;
      setTimeout(resolve, 5000);
    });
    if (anchor) anchor.after(link);
    else document.head.append(link);
    return loaded;
  });
  return Promise.all(loads).then(() => old.forEach((l) => l.remove()));
}

// served are the versions the page has, by frontend: an update may come
// twice, from the catch-up of a page that connects as a rebuild is told.
const served = new URLSearchParams(pageVersions());

async function update(u) {
  if (served.get(u.frontend) === u.label) return;
  served.set(u.frontend, u.label);
  clearErrors("runtime", u.frontend);
  clearErrors("mount", u.frontend);
  const slotted = [...document.querySelectorAll("collage-slot")].some((s) => s.getAttribute("frontend") === u.frontend);
  if (!slotted) return;
  if (!window.collage) {
    location.reload(); // the page had no bundle, so no runtime
    return;
  }
  // Stylesheets whose content did not change move to the new version
  // after the mount: their images would take the connections the mount
  // needs.
  const links = [...document.querySelectorAll('link[rel="stylesheet"]')];
  const same = (u.css || []).every((href) => links.some((l) => l.integrity && l.integrity === (u.integrity || {})[href]));
  const css = same ? null : swapCSS(u);
  if (!u.css_only && !(await window.collage.remount(u.frontend, u.entry, u.label))) {
    location.reload();
    return;
  }
  await (css || swapCSS(u));
  tell("applied", u);
}

function pageVersions() {
  const meta = document.querySelector('meta[name="collage-versions"]');
  return meta ? meta.content : "";
}

function sharedVersion() {
  const map = document.querySelector('script[type="importmap"]');
  try {
    for (const url of Object.values(JSON.parse(map.textContent).imports || {})) {
      const m = /\/assets\/_shared\/([^/]+)\//.exec(url);
      if (m) return m[1];
    }
  } catch {
    // no import map: no shared dependencies
  }
  return "";
}

function connect() {
  const q = new URLSearchParams({ path: location.pathname + location.search });
  if (pageVersions()) q.set("versions", pageVersions());
  if (sharedVersion()) q.set("shared", sharedVersion());
  const source = new EventSource(eventsPath + "?" + q);
  let queue = Promise.resolve();
  const on = (type, fn) =>
    source.addEventListener(type, (e) => {
      // A failed connection is an "error" event too, without data: the
      // EventSource connects again by itself.
      if (typeof e.data !== "string") return;
      const data = e.data ? JSON.parse(e.data) : {};
      tell(type, data);
      queue = queue.then(() => fn(data)).catch((err) => console.warn("collage dev:", err));
    });
  on("update", update);
  on("reload", () => location.reload());
  on("error", (data) => setError(data));
  on("clear", (data) => clearErrors(data.source, data.frontend));
}

connect();
