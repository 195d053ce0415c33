// No skew between a page and its versions, in a real browser: a page keeps
// calling the BFF of the version it was rendered with, and keeps loading
// that version's lazy chunks, after another version is promoted; a new
// page gets the new version, and a rollback brings the old one back to new
// pages without moving the pages already open.
//
// The project is tests/browser/fixtures/skew: one plain TypeScript frontend
// whose BFF is an HTTP server, here a tiny one on 127.0.0.1 that answers
// under /v1/ and /v2/, two immutable targets. Each version is published
// through the CLI with its own target and its own lazy chunk.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { close, collage, launch, newContext, root, skip, start, tempDir, waitForSlots, watch } from "./server.mjs";

const fixture = path.join(root, "tests", "browser", "fixtures", "skew");
const adminToken = "skew-test-admin-token-0123456789";

/**
 * startBFF runs the versioned BFF: under /vN/, `_fragment` is HTML naming
 * vN, cacheable for a minute (so a fragment cache keyed by anything but the
 * version would show the old one after a promote), and `hello` is
 * {"version":"vN"}. It resolves to its base URL, the paths it was asked
 * for, and a close function.
 */
async function startBFF() {
  const asked = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url);
    const m = /^\/(v[12])\/(_fragment|hello)$/.exec(req.url);
    if (req.method !== "GET" || !m) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "not_found", message: `no ${req.method} ${req.url}` } }));
      return;
    }
    const [, version, what] = m;
    if (what === "_fragment") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=60" });
      res.end(`<p class="skew-fragment">fragment ${version}</p>`);
    } else {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ version }));
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    asked,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/**
 * project copies the fixture into a scratch folder with its BFF at base
 * (the shell's default target, /v1) and the project's node_modules, which
 * a pack builds the shared dependencies from.
 */
function project(base) {
  const dir = path.join(mkdtempSync(path.join(tempDir(), "skew-")), "project");
  cpSync(fixture, dir, { recursive: true });
  const config = path.join(dir, "collage.yaml");
  const text = readFileSync(config, "utf8");
  const replaced = text.replace("http://127.0.0.1:8787", base);
  assert.notEqual(replaced, text, `${config} names the BFF http://127.0.0.1:8787/v1`);
  writeFileSync(config, replaced);
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** setChunk makes the lazy chunk of the project at dir say "chunk VERSION". */
function setChunk(dir, version) {
  const file = path.join(dir, "frontends", "skew", "src", "later.ts");
  const text = readFileSync(file, "utf8");
  const replaced = text.replace(/version = "[^"]*"/, `version = ${JSON.stringify(version)}`);
  assert.notEqual(replaced, text, `${file} exports version = "…"`);
  writeFileSync(file, replaced);
}

/** The page's slot of the fixture's frontend. */
const slot = (page) => page.locator("collage-slot[frontend=skew]");

/**
 * clickFor clears the output, clicks the button and resolves to the
 * output's text once the click's work has written it.
 */
async function clickFor(page, button, output) {
  await page.locator(`collage-slot[frontend=skew] .${output}`).evaluate((o) => (o.textContent = ""));
  await slot(page).getByRole("button", { name: button }).click();
  await page.waitForFunction(
    (sel) => !["", "…"].includes(document.querySelector(sel)?.textContent ?? ""),
    `collage-slot[frontend=skew] .${output}`,
    { timeout: 5_000, polling: 50 },
  );
  return slot(page).locator(`.${output}`).textContent();
}

/**
 * hello clicks "Say hello" and returns the BFF's answer, with the path the
 * page called it at.
 */
async function hello(page) {
  const called = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith("/bff/"), { timeout: 5_000 });
  const text = await clickFor(page, "Say hello", "skew-answer");
  const res = await called;
  return { text, path: new URL(res.url()).pathname, status: res.status() };
}

/**
 * chunk clicks "Load the chunk" and returns what the chunk says, with the
 * URL it came from, which must be fetched now: nothing loads it before.
 */
async function chunk(page) {
  const fetched = page.waitForResponse((r) => /\/chunk-[^/]+\.js$/.test(r.url()), { timeout: 5_000 });
  const text = await clickFor(page, "Load the chunk", "skew-chunk");
  const res = await fetched;
  return { text, url: res.url(), status: res.status() };
}

/**
 * open loads the page in context, waits for the frontend to mount and
 * returns the page, its watcher and what it was rendered with: the
 * versions it names, its fragment and the folder of its entry module.
 */
async function open(context, url) {
  const page = await context.newPage();
  const w = watch(page);
  const res = await page.goto(url);
  assert.equal(res.status(), 200, `GET ${url}`);
  assert.deepEqual(await waitForSlots(page), { skew: "mounted" });
  const rendered = await page.evaluate(() => ({
    versions: document.querySelector('meta[name="collage-versions"]')?.content,
    fragment: document.querySelector("collage-slot[frontend=skew] .skew-fragment")?.textContent,
    entry: JSON.parse(document.querySelector('script[type="importmap"]').textContent).imports["@collage/skew"],
  }));
  return { page, w, ...rendered, assets: new URL(rendered.entry, url).pathname.replace(/[^/]+$/, "") };
}

/** expectVersion checks that a page opened now renders version v all through. */
async function expectVersion(context, url, v) {
  const p = await open(context, url);
  assert.equal(p.versions, `skew=${v}`, "the page names its version");
  assert.equal(p.fragment, `fragment ${v}`, "the fragment comes from the version's BFF");
  assert.match(p.assets, /^\/assets\/skew\/[^/]+\/$/, `the entry ${p.entry} is under /assets/skew/VERSION/`);
  const h = await hello(p.page);
  assert.deepEqual(h, { text: JSON.stringify({ version: v }), path: `/bff/skew@${v}/hello`, status: 200 });
  const c = await chunk(p.page);
  assert.equal(c.status, 200, `GET ${c.url}`);
  assert.equal(c.text, `chunk ${v}`);
  assert.ok(new URL(c.url).pathname.startsWith(p.assets), `the chunk ${c.url} is the entry's version's (${p.assets})`);
  return p;
}

describe("no skew across a promote and a rollback", { skip, timeout: 300_000 }, () => {
  let browser, bff, server, dir;
  const cli = (...args) => collage(args, { cwd: dir, env: { COLLAGE_SHELL: server.url, COLLAGE_TOKEN: adminToken } });

  before(async () => {
    browser = await launch();
    bff = await startBFF();
    dir = project(`${bff.url}/v1`);
    // A registry of its own (start gives each server one), and no dist:
    // every version is published.
    server = await start({
      config: path.join(dir, "collage.yaml"),
      dist: path.join(dir, "dist"),
      env: { COLLAGE_ADMIN_TOKEN: adminToken },
    });
    for (const [v, promote] of [["v1", true], ["v2", false]]) {
      setChunk(dir, v);
      const args = ["publish", "frontends/skew", "--root", ".", "--label", v, "--bff", `${bff.url}/${v}`];
      if (promote) args.push("--promote");
      assert.equal((await cli(...args)).trim(), v, `collage publish prints the label ${v}`);
    }
  }, { timeout: 240_000 });

  after(async () => {
    await server?.stop();
    await bff?.close();
    await close(browser);
  }, { timeout: 30_000 });

  test("an open page keeps its version's BFF and chunks; new pages follow promote and rollback", { timeout: 90_000 }, async () => {
    const context = await newContext(browser);
    try {
      // Before the promote: v1 everywhere. The chunk is left unloaded.
      const old = await open(context, server.url + "/");
      assert.equal(old.versions, "skew=v1");
      assert.equal(old.fragment, "fragment v1");
      assert.deepEqual(await hello(old.page), { text: '{"version":"v1"}', path: "/bff/skew@v1/hello", status: 200 });
      assert.ok(!old.w.requests.some((r) => /\/chunk-/.test(r)), `no chunk is loaded before its button: ${old.w.requests}`);

      await cli("promote", "skew", "v2");

      // The page rendered with v1 still reaches v1's BFF and loads v1's
      // chunk, from v1's assets, now that v2 is active.
      assert.deepEqual(await hello(old.page), { text: '{"version":"v1"}', path: "/bff/skew@v1/hello", status: 200 });
      const c = await chunk(old.page);
      assert.equal(c.status, 200, `GET ${c.url}`);
      assert.equal(c.text, "chunk v1");
      assert.ok(new URL(c.url).pathname.startsWith(old.assets), `the chunk ${c.url} is v1's (${old.assets})`);

      // A new page is v2's all through, its fragment too: the cache that
      // may keep v1's for a minute is keyed by version.
      const fresh = await expectVersion(context, server.url + "/", "v2");
      assert.notEqual(fresh.assets, old.assets, "v1 and v2 are different bundles");
      assert.deepEqual(
        bff.asked.filter((p) => p.endsWith("/hello")),
        ["/v1/hello", "/v1/hello", "/v2/hello"],
        "each /bff call reached the target of its page's version",
      );

      await cli("rollback", "skew");

      // A new page is v1's again; the page rendered with v2 stays on v2.
      const back = await expectVersion(context, server.url + "/", "v1");
      assert.equal(back.assets, old.assets, "the rollback serves v1's bundle again");
      assert.deepEqual(await hello(fresh.page), { text: '{"version":"v2"}', path: "/bff/skew@v2/hello", status: 200 });

      for (const p of [old, fresh, back]) await p.w.assertClean(assert);
    } finally {
      await context.close();
    }
  });
});
