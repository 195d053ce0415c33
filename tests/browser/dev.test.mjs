// collage dev's loop in a real Chromium, on a copy of the demo project (the
// repository's own frontends are never edited): each edit shows in the
// open page without a reload while the other frontends keep their state,
// a CSS edit is swapped in place, errors show in the overlay and go once
// fixed, and layouts, collage.yaml and new frontend folders are picked up.
//
// It prints its figures as lines starting "figure:": edit → visible over
// 20 edits (p50, p95), split into rebuild (the edit written → the new
// version served) and delivery (served → on screen), a CSS edit → applied,
// a syntax error → the overlay, and its fix → the overlay gone.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { addToCart, cartBadge, close, copyProject, edit, eventsPath, figure, launch, newContext, now, skip, start, waitForSlots, watch } from "./server.mjs";

/**
 * whenShown starts watching the page for check(document) to hold, and
 * resolves to the page's clock when it first does, with the last update
 * event the page got; it fails after timeout ms.
 */
async function whenShown(page, check, arg, timeout = 10_000) {
  await page.evaluate(
    ([src, arg]) => {
      const check = new Function("arg", `return (${src})(arg)`);
      window.__shown = null;
      window.__lastUpdate = null;
      const seen = () => {
        if (window.__shown === null && check(arg)) window.__shown = performance.timeOrigin + performance.now();
      };
      window.__observer?.disconnect();
      window.__observer = new MutationObserver(seen);
      window.__observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
      seen();
    },
    [check.toString(), arg],
  );
  return async () => {
    await page.waitForFunction(() => window.__shown !== null, null, { timeout, polling: 20 });
    return page.evaluate(() => ({ shown: window.__shown, update: window.__lastUpdate }));
  };
}

describe("collage dev", { skip, timeout: 300_000 }, () => {
  let dir, server, browser, context, page, w;
  const original = {};
  const keep = (file) => (original[file] ??= readFileSync(path.join(dir, file), "utf8"));
  const restore = (file) => writeFileSync(path.join(dir, file), original[file]);

  before(
    async () => {
      dir = copyProject();
      for (const f of ["frontends/recs/src/RecsView.tsx", "frontends/recs/src/index.tsx", "frontends/recs/src/styles.css", "layouts/home.html", "collage.yaml"]) keep(f);
      server = await start({ mode: "dev", config: path.join(dir, "collage.yaml") });
      browser = await launch();
      context = await newContext(browser);
      page = await context.newPage();
      // A page that reloads aborts its event stream: that is no failure.
      w = watch(page, { expected: (u) => u.pathname === eventsPath });
      await page.addInitScript(() => {
        window.addEventListener("collage:dev", (e) => {
          if (e.detail.type === "update") window.__lastUpdate = e.detail.data;
        });
      });
      await page.goto(server.url + "/");
      await waitForSlots(page);
      await addToCart(page, "House Blend Beans", 1, assert);
      await page.evaluate(() => {
        window.__marker = "kept";
        document.querySelector("collage-slot[frontend=catalog] h1").__marker = "kept";
      });
    },
    { timeout: 200_000 },
  );
  after(async () => {
    await context?.close();
    await close(browser);
    await server?.stop();
  });

  const unreloaded = () =>
    page.evaluate(() => ({
      window: window.__marker,
      catalog: document.querySelector("collage-slot[frontend=catalog] h1")?.__marker,
      cart: document.querySelector("#cart .cart-count")?.textContent.trim(),
    }));

  test("20 edits of a frontend show without a reload, and the other frontends keep their state", { timeout: 120_000 }, async () => {
    const totals = [];
    const rebuilds = [];
    const deliveries = [];
    for (let i = 1; i <= 20; i++) {
      const text = `(edit ${i})`;
      const shown = await whenShown(page, (t) => document.querySelector("collage-slot[frontend=recs] .recs-title")?.textContent.includes(t), text);
      const t0 = now();
      edit(dir, "frontends/recs/src/RecsView.tsx", () => original["frontends/recs/src/RecsView.tsx"].replace("{recs.title}", `{recs.title} ${text}`));
      const { shown: t2, update } = await shown();
      assert.ok(update && update.frontend === "recs", `edit ${i}: the page got no update of recs: ${JSON.stringify(update)}`);
      totals.push(t2 - t0);
      rebuilds.push(update.at - t0);
      deliveries.push(t2 - update.at);
      assert.deepEqual(await unreloaded(), { window: "kept", catalog: "kept", cart: "1" }, `edit ${i}: the page reloaded, or another frontend lost its state`);
      assert.equal((await cartBadge(page).textContent()).trim(), "1", `edit ${i}: the header's badge`);
      assert.equal(await page.locator("collage-slot[frontend=recs]").getAttribute("data-collage-state"), "mounted");
    }
    figure("frontend edit → visible", totals);
    figure("frontend edit → rebuilt and served", rebuilds);
    figure("served → visible (delivery)", deliveries);
    assert.equal(await page.locator("[data-collage-overlay]").count(), 0, "no overlay");
    assert.deepEqual(w.problems, []);
  });

  test("a CSS edit is swapped in place, without a reload or a mount", { timeout: 60_000 }, async () => {
    const took = [];
    for (const size of ["31px", "32px", "33px", "34px", "35px"]) {
      await page.evaluate(() => (document.querySelector("collage-slot[frontend=recs] .recs-title").__marker = "kept"));
      const shown = await whenShown(page, (s) => getComputedStyle(document.querySelector("collage-slot[frontend=recs] .recs-title")).fontSize === s, size);
      const t0 = now();
      edit(dir, "frontends/recs/src/styles.css", () => original["frontends/recs/src/styles.css"].replace(/(\.recs-title \{[^}]*font-size: )20px/, `$1${size}`));
      const { shown: t1, update } = await shown();
      took.push(t1 - t0);
      assert.ok(update.css_only, `the update says more than the stylesheet changed: ${JSON.stringify(update)}`);
      assert.equal(
        await page.evaluate(() => document.querySelector("collage-slot[frontend=recs] .recs-title").__marker),
        "kept",
        "recs was mounted again for a CSS edit",
      );
      const links = await page.evaluate(() => [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => new URL(l.href).pathname).filter((p) => p.startsWith("/assets/recs/")));
      assert.deepEqual(links, update.css, "the page links the new stylesheet alone");
    }
    const back = await whenShown(page, () => getComputedStyle(document.querySelector("collage-slot[frontend=recs] .recs-title")).fontSize === "20px");
    restore("frontends/recs/src/styles.css");
    await back();
    figure("CSS edit → applied", took);
    assert.deepEqual(await unreloaded(), { window: "kept", catalog: "kept", cart: "1" });
    assert.deepEqual(w.problems, []);
  });

  test("a syntax error shows the overlay while the page keeps working; fixing it clears the overlay", { timeout: 90_000 }, async () => {
    const overlay = page.locator("[data-collage-overlay]");
    const shownAt = [];
    const clearedAt = [];
    for (let i = 1; i <= 5; i++) {
      const shown = await whenShown(page, () => document.querySelector("[data-collage-overlay]") !== null);
      const t0 = now();
      edit(dir, "frontends/recs/src/RecsView.tsx", (s) => s.replace(/\{recs\.title\}.*/, `{recs.title (broken ${i})`));
      shownAt.push((await shown()).shown - t0);
      const text = await overlay.textContent();
      assert.match(text, /frontend recs/, "the overlay names the frontend");
      assert.match(text, /frontends\/recs\/src\/RecsView\.tsx:\d+:\d+/, "the overlay gives file:line:column");
      assert.match(text, /> +\d+ \|/, "the overlay shows the code frame");

      if (i === 1) {
        // The last good build still serves: the page works.
        await addToCart(page, "House Blend Beans", 2, assert);
        assert.equal(await page.locator("collage-slot[frontend=recs]").getAttribute("data-collage-state"), "mounted");
      }

      const cleared = await whenShown(page, (t) => document.querySelector("[data-collage-overlay]") === null && document.querySelector("collage-slot[frontend=recs] .recs-title")?.textContent.includes(t), `(fixed ${i})`);
      const t1 = now();
      edit(dir, "frontends/recs/src/RecsView.tsx", () => original["frontends/recs/src/RecsView.tsx"].replace("{recs.title}", `{recs.title} (fixed ${i})`));
      clearedAt.push((await cleared()).shown - t1);
    }
    figure("syntax error → overlay", shownAt);
    figure("fix → overlay gone and the fix shown", clearedAt);
    assert.deepEqual(await unreloaded(), { window: "kept", catalog: "kept", cart: "2" });
    assert.deepEqual(w.problems, []);
  });

  test("a mount that throws shows the overlay naming the frontend; fixing it mounts it again", { timeout: 60_000 }, async () => {
    const overlay = page.locator("[data-collage-overlay]");
    edit(dir, "frontends/recs/src/index.tsx", (s) => s.replace("mounted.add(el);", 'mounted.add(el);\n  throw new Error("recs cannot mount");'));
    await overlay.waitFor({ timeout: 10_000 });
    const text = await overlay.textContent();
    assert.match(text, /frontend recs: mount threw/);
    assert.match(text, /recs cannot mount/);
    assert.equal(await page.locator("collage-slot[frontend=recs]").getAttribute("data-collage-state"), "failed");

    restore("frontends/recs/src/index.tsx");
    await overlay.waitFor({ state: "detached", timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector("collage-slot[frontend=recs]")?.dataset.collageState === "mounted", null, { timeout: 10_000 });
    assert.deepEqual(await unreloaded(), { window: "kept", catalog: "kept", cart: "2" });
    // The runtime said so in the console, as it should.
    const others = w.problems.filter((p) => !p.includes('frontend "recs" failed to mount'));
    assert.deepEqual(others, []);
    w.problems.length = 0;
  });

  test("a layout edit reloads the page with it", { timeout: 60_000 }, async () => {
    edit(dir, "layouts/home.html", (s) => s.replace("Nothing here is for sale.", "Nothing here is for sale, edited."));
    await page.locator("footer", { hasText: "Nothing here is for sale, edited." }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.__marker), undefined, "the page reloaded");
    await waitForSlots(page);
    assert.equal((await cartBadge(page).textContent()).trim(), "2", "the cart's BFF kept the cart");
  });

  test("a bad collage.yaml keeps the last good one serving and says why; fixing it clears that", { timeout: 60_000 }, async () => {
    const overlay = page.locator("[data-collage-overlay]");
    edit(dir, "collage.yaml", (s) => s.replace("recs:    { bff: local", "recs:    { bff: nowhere"));
    await overlay.waitFor({ timeout: 10_000 });
    assert.match(await overlay.textContent(), /collage\.yaml/);
    const res = await page.request.get(server.url + "/");
    assert.equal(res.status(), 200, "the last good config still serves");
    restore("collage.yaml");
    await overlay.waitFor({ state: "detached", timeout: 10_000 });
    await waitForSlots(page);
  });

  test("a new frontend folder, named in collage.yaml and a layout, is built and mounted", { timeout: 60_000 }, async () => {
    const bff = http.createServer((req, res) => {
      res.writeHead(req.url === "/_fragment" ? 200 : 404, { "Content-Type": "text/html; charset=utf-8" });
      res.end(req.url === "/_fragment" ? '<p class="hello-server">hello from its BFF</p>' : "");
    });
    await new Promise((resolve) => bff.listen(0, "127.0.0.1", resolve));
    try {
      const files = {
        "frontends/hello/frontend.json": JSON.stringify({ name: "hello", entry: "src/index.ts" }),
        "frontends/hello/src/index.ts": [
          "export function mount(el: HTMLElement): void {",
          '  const p = document.createElement("p");',
          '  p.className = "hello-client";',
          '  p.textContent = "hello from its bundle";',
          "  el.append(p);",
          "}",
          "export function unmount(el: HTMLElement): void {",
          '  el.querySelector(".hello-client")?.remove();',
          "}",
          "",
        ].join("\n"),
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      edit(dir, "collage.yaml", (s) => s.replace(/^frontends:\n/m, `frontends:\n  hello:   { bff: "http://127.0.0.1:${bff.address().port}" }\n`));
      edit(dir, "layouts/home.html", (s) => s.replace("</main>", '<collage-slot frontend="hello" timeout="500ms"><p>hello is unavailable</p></collage-slot>\n</main>'));
      const slot = page.locator("collage-slot[frontend=hello]");
      await slot.locator(".hello-server").waitFor({ timeout: 15_000 });
      await slot.locator(".hello-client").waitFor({ timeout: 10_000 });
      assert.equal(await slot.getAttribute("data-collage-state"), "mounted");

      // An edit of the new frontend shows like any other.
      await page.evaluate(() => (window.__marker = "kept"));
      edit(dir, "frontends/hello/src/index.ts", (s) => s.replace("hello from its bundle", "hello, edited"));
      await slot.locator(".hello-client", { hasText: "hello, edited" }).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator("[data-collage-overlay]").count(), 0, "no overlay");
      assert.equal(await page.evaluate(() => window.__marker), "kept", "the page reloaded");

      // A module without unmount cannot be replaced in place: once it is
      // mounted, the next edit reloads the page.
      edit(dir, "frontends/hello/src/index.ts", (s) => s.replace("export function unmount", "function unmount").replace("hello, edited", "hello, no unmount"));
      await slot.locator(".hello-client", { hasText: "hello, no unmount" }).waitFor({ timeout: 10_000 });
      assert.equal(await page.evaluate(() => window.__marker), "kept", "the page reloaded to replace a module that has unmount");
      edit(dir, "frontends/hello/src/index.ts", (s) => s.replace("hello, no unmount", "hello, reloaded"));
      await slot.locator(".hello-client", { hasText: "hello, reloaded" }).waitFor({ timeout: 10_000 });
      assert.equal(await page.evaluate(() => window.__marker), undefined, "the page was not reloaded");
    } finally {
      await new Promise((resolve) => bff.close(resolve));
    }
    assert.deepEqual(w.problems, []);
  });
});
