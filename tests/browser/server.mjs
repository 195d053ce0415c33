// Shared helpers of the browser tests: they build the collage binary and the
// demo's dist once per test file, run real `collage serve` / `collage dev`
// servers on 127.0.0.1:0 and collage's other commands, launch Debian's
// Chromium through playwright-core, and watch a page for console errors,
// failed requests and CSP violations.
//
// Every child process is killed when the test process exits, even when a
// test forgets to stop it, and nothing here keeps the process alive by itself.
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

/** The repository's root folder. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Debian's Chromium; the tests never download a browser. */
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/**
 * skip is false when the tests can run, or the reason they are skipped: run
 * by hand without Chromium they skip loudly; under CI (CI=true) they run and
 * fail, because CI always has Chromium.
 */
export const skip = (() => {
  if (existsSync(chromiumPath) || process.env.CI === "true") return false;
  const why = `${chromiumPath} not found: SKIPPING the browser tests (apt-get install chromium, or run make test)`;
  process.stderr.write(`\n!!!!! ${why}\n\n`);
  return why;
})();

const children = new Set();
let tmp = null;
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
// A signal ends the process without "exit" unless something handles it.
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => process.exit(sig === "SIGINT" ? 130 : 143));

/** tempDir returns this process's scratch folder, removed when it exits. */
export function tempDir() {
  tmp ??= mkdtempSync(path.join(tmpdir(), "collage-browser-"));
  return tmp;
}

function run(file, args, { timeout, cwd = root, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const options = { cwd, timeout, killSignal: "SIGKILL", env: { ...process.env, ...env }, maxBuffer: 16 << 20 };
    execFile(file, args, options, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(" ")}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

let compiled = null;
let built = null;

/**
 * binary builds the demo shop's collage binary (cmd/shop) into the scratch folder, once per
 * process, and returns its path.
 */
export function binary() {
  compiled ??= (async () => {
    const bin = path.join(tempDir(), "collage");
    await run("go", ["build", "-o", bin, "./cmd/shop"], { timeout: 180_000 });
    return bin;
  })();
  return compiled;
}

/**
 * build builds the collage binary and the demo's dist into the scratch
 * folder, once per process, and returns their paths.
 */
export function build() {
  built ??= (async () => {
    const bin = await binary();
    const dist = path.join(tempDir(), "dist");
    await run(bin, ["build", "--root", root, "--out", dist, "--lambda=false"], { timeout: 60_000 });
    return { bin, dist };
  })();
  return built;
}

/**
 * collage runs the collage binary with args (and env added to this
 * process's environment) in cwd, and resolves to its standard output.
 * It fails with both outputs when the command fails or outlasts timeout ms.
 */
export async function collage(args, { env = {}, cwd = root, timeout = 60_000 } = {}) {
  return run(await binary(), args, { env, cwd, timeout });
}

/**
 * writeConfig writes a copy of the repository's collage.yaml into the
 * scratch folder, with the bff of each frontend in bffs (name → value)
 * replaced by value, and returns its path. Everything else is kept, so the
 * copy has the project's frontends, however many, and what the file says
 * about each. Its layouts are the repository's.
 */
export function writeConfig(name, bffs = {}) {
  let text = readFileSync(path.join(root, "collage.yaml"), "utf8");
  text = text.replace(/^layouts:.*$/m, `layouts: ${JSON.stringify(path.join(root, "layouts"))}`);
  for (const [frontend, bff] of Object.entries(bffs)) {
    const entry = new RegExp(`^(\\s+${frontend}:\\s*(?:\\{[^}\\n]*?\\b)?bff:\\s*)("[^"]*"|[^,}\\s]+)`, "m");
    if (!entry.test(text)) throw new Error(`collage.yaml has no frontend ${frontend} whose bff the test could replace: write "${frontend}: { bff: … }"`);
    text = text.replace(entry, (_, head) => head + JSON.stringify(bff));
  }
  const file = path.join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

/** demoFrontends are the demo shop's frontends; a project may add more. */
export const demoFrontends = ["header", "catalog", "cart", "recs"];

/**
 * layoutFrontends returns the frontend of every slot of the repository's
 * layout file (e.g. "home.html"), in order: what a page of it composes.
 */
export function layoutFrontends(file) {
  const html = readFileSync(path.join(root, "layouts", file), "utf8");
  return [...html.matchAll(/<collage-slot\s[^>]*?\bfrontend="([a-z0-9-]+)"/g)].map((m) => m[1]);
}

/**
 * copyProject copies the demo project (collage.yaml, layouts, package.json
 * and the frontends' sources, without their Go BFFs, which the binary
 * links) into a new scratch folder, with node_modules linked, and returns
 * the folder.
 */
export function copyProject() {
  const dir = mkdtempSync(path.join(tempDir(), "project-"));
  for (const name of ["collage.yaml", "package.json", "layouts"]) cpSync(path.join(root, name), path.join(dir, name), { recursive: true });
  const frontends = path.join(root, "frontends");
  cpSync(frontends, path.join(dir, "frontends"), {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(frontends, src);
      return !rel.endsWith(".go") && !/(^|\/)(bff|internal|node_modules)(\/|$)/.test(rel);
    },
  });
  linkNodeModules(dir);
  return dir;
}

/**
 * linkNodeModules links the repository's node_modules into dir, in place of
 * an npm install: a project's frontends find preact, and its type check
 * TypeScript, through it.
 */
function linkNodeModules(dir) {
  symlinkSync(realpathSync(path.join(root, "node_modules")), path.join(dir, "node_modules"));
}

/**
 * newProject writes a project of its own Go module with `collage new`
 * (requiring this checkout through a replace) into a new scratch folder,
 * adds each frontend of add with `collage add`, links node_modules and
 * builds the project's own collage binary, its BFFs linked in. It resolves
 * to { dir, bin }.
 */
export async function newProject({ add = [] } = {}) {
  const dir = path.join(mkdtempSync(path.join(tempDir(), "new-")), "site");
  await collage(["new", dir, "--collage", root, "--module", "example.com/site"], { timeout: 180_000 });
  for (const name of add) await collage(["add", name], { cwd: dir });
  linkNodeModules(dir);
  const bin = path.join(dir, "bin", "site");
  await run("go", ["build", "-o", bin, "."], { cwd: dir, timeout: 180_000 });
  return { dir, bin };
}

/**
 * edit rewrites a file of the project in dir through fn of its text, and
 * fails when that changes nothing.
 */
export function edit(dir, file, fn) {
  const p = path.join(dir, file);
  const before = readFileSync(p, "utf8");
  const after = fn(before);
  if (after === before) throw new Error(`the edit of ${file} changes nothing`);
  writeFileSync(p, after);
}

/** now is the wall clock in ms, as the page's Date.now() and the server's. */
export const now = () => performance.timeOrigin + performance.now();

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (ms) => Math.round(ms * 10) / 10;

/**
 * figure prints one figure line, "figure: NAME: …", of a time in ms or of
 * several (their p50 and p95).
 */
export function figure(name, values) {
  const v = Array.isArray(values) ? values : [values];
  const text = v.length > 1 ? `p50 ${round(percentile(v, 50))} ms, p95 ${round(percentile(v, 95))} ms (n=${v.length})` : `${round(v[0])} ms`;
  console.log(`figure: ${name}: ${text}`);
}

/**
 * start runs `collage serve` (mode "serve", on the built dist) or
 * `collage dev` (mode "dev", which builds into .collage/dev) on a free port
 * and resolves once it listens. options.set are --set overrides
 * ("recs.delay=2s"); options.cwd the folder it runs in (default: the
 * repo's); options.config a config file (default: cwd's collage.yaml);
 * options.bin the collage binary (default: the demo's, built once; a
 * project's own, say); options.dist the folder serve imports (default: the
 * demo's, built once); options.args more flags ("--assets-url", URL);
 * options.env variables added to the server's environment. Each server gets
 * a registry of its own, in a new folder of the scratch folder, unless
 * options.args give --data: two servers cannot share one store, and no run
 * sees what another published.
 */
export async function start({ mode = "serve", set = [], cwd = root, config = path.join(cwd, "collage.yaml"), bin = null, dist = null, args: more = [], env = {} } = {}) {
  bin ??= await binary();
  const args = [mode, "--config", config, "--addr", "127.0.0.1:0"];
  if (mode === "serve") args.push("--dist", dist ?? (await build()).dist);
  if (!more.includes("--data")) args.push("--data", mkdtempSync(path.join(tempDir(), "data-")));
  for (const s of set) args.push("--set", s);
  args.push(...more);
  const child = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let log = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collage ${mode} did not listen within 60s:\n${log}`)), 60_000);
    const onData = (chunk) => {
      log += chunk;
      const m = /collage: serving \d+ route\(s\) on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`collage ${mode} exited (${code ?? signal}) before listening:\n${log}`));
    });
  }).catch((err) => {
    child.kill("SIGKILL");
    throw err;
  });
  // A server nobody stopped must not keep the test process alive.
  child.unref();
  child.stdout.unref();
  child.stderr.unref();
  return {
    url,
    /** The server's output so far. */
    log: () => log,
    /** stop asks the server to shut down and kills it if it has not in 5s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** eventsPath is collage dev's event stream, which a page that reloads aborts. */
export const eventsPath = "/_collage/dev/events";

/** launch starts a headless Chromium. */
export function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 30_000 });
}

/** close closes a browser, giving up after 10s (playwright kills it on exit). */
export async function close(browser) {
  if (!browser) return;
  await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
}

/**
 * newContext opens a fresh browser context whose pages record the
 * securitypolicyviolation events they see in window.__cspViolations, and
 * when their <footer> appeared in window.__footerAt.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  await context.addInitScript(() => {
    // When the <footer> reached the DOM, in ms since the navigation started.
    window.__footerAt = null;
    new MutationObserver((_, observer) => {
      if (window.__footerAt === null && document.querySelector("footer")) {
        window.__footerAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return context;
}

/**
 * watch records what goes wrong on a page: console errors, uncaught
 * exceptions, failed requests, responses ≥ 400 and CSP messages. expected(url,
 * status) tells which failing responses (and their console errors) are part
 * of the test. assertClean fails the test with everything recorded.
 */
export function watch(page, { expected = () => false } = {}) {
  const problems = [];
  const requests = [];
  const isExpected = (url, status) => {
    try {
      const u = new URL(url);
      // Chromium asks for /favicon.ico by itself; the favicon test checks it.
      return u.pathname === "/favicon.ico" || expected(u, status);
    } catch {
      return false;
    }
  };
  page.on("request", (req) => requests.push(req.url()));
  page.on("console", (msg) => {
    const text = msg.text();
    const where = msg.location()?.url || "";
    if (/Content.Security.Policy/i.test(text)) problems.push(`CSP console ${msg.type()}: ${text}`);
    else if (msg.type() === "error" && !(where && isExpected(where, 0) && /Failed to load resource/.test(text)))
      problems.push(`console error: ${text} (${where})`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.stack || err}`));
  page.on("requestfailed", (req) => {
    if (!isExpected(req.url(), 0)) problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400 && !isExpected(res.url(), res.status()))
      problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return {
    problems,
    /** Every URL the page requested, in order, repeats included. */
    requests,
    async assertClean(assert) {
      const csp = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
      const all = [...problems, ...csp.map((v) => `CSP violation: ${v}`)];
      assert.deepEqual(all, [], `the page had problems:\n${all.join("\n")}`);
    },
  };
}

/**
 * waitForSlots waits until the runtime has settled every <collage-slot> of
 * the page (or, with frontends, those of them) as mounted, failed or static,
 * and returns { frontend: state }.
 */
export async function waitForSlots(page, { frontends = null, timeout = 10_000 } = {}) {
  const settled = () =>
    page.evaluate((only) => {
      const out = {};
      for (const s of document.querySelectorAll("collage-slot")) {
        const name = s.getAttribute("frontend");
        if (!only || only.includes(name)) out[name] = s.dataset.collageState ?? "";
      }
      return out;
    }, frontends);
  try {
    await page.waitForFunction(
      (only) =>
        [...document.querySelectorAll("collage-slot")]
          .filter((s) => !only || only.includes(s.getAttribute("frontend")))
          .every((s) => ["mounted", "failed", "static"].includes(s.dataset.collageState)),
      frontends,
      { timeout, polling: 50 },
    );
  } catch (err) {
    throw new Error(`slots did not settle in ${timeout}ms: ${JSON.stringify(await settled())}`, { cause: err });
  }
  return settled();
}

/**
 * bffPath matches the path of a page's call to frontend's BFF whose rest
 * (after /bff/NAME/) matches the regular expression rest: pinned to the
 * version the page was rendered with (/bff/NAME@LABEL/…) or not.
 */
export function bffPath(frontend, rest) {
  return new RegExp(`^/bff/${frontend}(?:@[^/]+)?/${rest}$`);
}

/** cartBadge is the header's cart count. */
export function cartBadge(page) {
  return page.locator("collage-slot[frontend=header] .header-cart-count");
}

/**
 * addToCart clicks the catalog's "Add NAME to cart" button and waits for the
 * cart BFF's answer and the header's badge to show count.
 */
export async function addToCart(page, name, count, assert) {
  const answered = page.waitForResponse((r) => bffPath("cart", "items").test(new URL(r.url()).pathname) && r.request().method() === "POST");
  await page.locator("collage-slot[frontend=catalog]").getByRole("button", { name: `Add ${name} to cart` }).click();
  const res = await answered;
  assert.equal(res.status(), 200, `POST /bff/cart/items answered ${res.status()}`);
  await page.waitForFunction(
    (n) => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === String(n),
    count,
    { timeout: 5_000 },
  );
}
