// collage dev --upstream URL --only cart in a real Chromium: the demo runs
// under `collage serve` (the upstream, behind a proxy here that records
// every request it gets), and dev runs a copy of the demo whose cart and
// catalog were edited, with only the cart local. The page shows the
// upstream's catalog (its products, its bundle, not the local edit) and the
// local cart's edit once it mounts; adding to the cart works end to end and
// the upstream's header counts it; nothing fails in the page, integrity
// checks included; and the upstream is never asked for the cart's bundle or
// its BFF.
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { addToCart, cartBadge, close, copyProject, edit, eventsPath, launch, newContext, skip, start, waitForSlots, watch } from "./server.mjs";

/**
 * recorder serves a proxy of target on 127.0.0.1 that records the method
 * and path of each request it forwards, and resolves to { url, seen, close }.
 */
async function recorder(target) {
  const to = new URL(target);
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const out = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(out);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** importMap reads the import map of the page (or of the HTML text). */
function importMapOf(html) {
  const m = /<script type="importmap"[^>]*>(.*?)<\/script>/s.exec(html);
  assert.ok(m, "the page has no import map");
  return JSON.parse(m[1]);
}

describe("collage dev --upstream --only cart", { skip, timeout: 400_000 }, () => {
  let upstream, proxy, server, browser, context, page, w;

  before(
    async () => {
      upstream = await start({ mode: "serve" });
      proxy = await recorder(upstream.url);
      const dir = copyProject();
      edit(dir, "frontends/cart/src/CartView.tsx", (s) => s.replace("Your cart <span", "Your local cart <span"));
      // Only the cart's edit may show: the catalog runs upstream.
      edit(dir, "frontends/catalog/src/views.tsx", (s) => s.replace("{listing.title}", "{listing.title} (local catalog)"));
      server = await start({ mode: "dev", config: path.join(dir, "collage.yaml"), args: ["--upstream", proxy.url, "--only", "cart"] });
      browser = await launch();
      context = await newContext(browser);
      page = await context.newPage();
      // A page that reloads aborts its event stream: that is no failure.
      w = watch(page, { expected: (u) => u.pathname === eventsPath });
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await context?.close();
    await close(browser);
    await server?.stop();
    await proxy?.close();
    await upstream?.stop();
  });

  test("the upstream's frontends and the local cart compose one working page", { timeout: 60_000 }, async () => {
    await page.goto(server.url + "/");
    assert.deepEqual(await waitForSlots(page), { header: "mounted", catalog: "mounted", cart: "mounted", recs: "mounted" });

    const catalog = page.locator("collage-slot[frontend=catalog]");
    assert.ok((await catalog.locator(".catalog-card").count()) > 0, "the catalog shows no products");
    assert.doesNotMatch(await catalog.locator(".catalog-title").textContent(), /local catalog/, "the catalog is the local build");
    await page.locator("#cart .cart-title", { hasText: "Your local cart" }).waitFor({ timeout: 10_000 });

    // The page runs the upstream's bundles, but the local cart's.
    const local = importMapOf(await page.content());
    const remote = importMapOf(await (await fetch(upstream.url + "/")).text());
    for (const name of ["header", "catalog", "recs"]) {
      const entry = local.imports[`@collage/${name}`];
      assert.equal(entry, remote.imports[`@collage/${name}`], `${name}'s entry is not the upstream's`);
      assert.equal(local.integrity[entry], remote.integrity[entry], `${name}'s integrity is not the upstream's`);
    }
    assert.notEqual(local.imports["@collage/cart"], remote.imports["@collage/cart"], "the cart's entry is the upstream's");

    await addToCart(page, "House Blend Beans", 1, assert);
    await page.locator("#cart .cart-item-name", { hasText: "House Blend Beans" }).waitFor({ timeout: 5_000 });
    assert.equal((await page.locator("#cart .cart-count").textContent()).trim(), "1");

    // The local cart's BFF keeps the cart by its cookie.
    await page.reload();
    await waitForSlots(page);
    assert.equal((await cartBadge(page).textContent()).trim(), "1", "the header's badge after a reload");
    await page.locator("#cart .cart-item-name", { hasText: "House Blend Beans" }).waitFor({ timeout: 5_000 });

    await w.assertClean(assert);
    const origin = new URL(server.url).origin;
    const elsewhere = w.requests.filter((u) => !u.startsWith(origin + "/") && !u.startsWith("data:"));
    assert.deepEqual(elsewhere, [], "the page asked another server");
  });

  test("the upstream serves the other frontends and is never asked for the cart", async () => {
    const seen = proxy.seen;
    assert.ok(seen.some((r) => r.startsWith("GET /assets/catalog/")), `the upstream served no file of the catalog:\n${seen.join("\n")}`);
    // The catalog hydrates from the data in the page; the header asks its
    // BFF for the navigation as it mounts.
    assert.ok(seen.some((r) => /^GET \/bff\/header@[^/]+\/nav\?/.test(r)), `the header's BFF was not called upstream, pinned:\n${seen.join("\n")}`);
    const cart = seen.filter((r) => /^\S+ \/(assets|bff)\/cart\b/.test(r));
    assert.deepEqual(cart, [], "the upstream was asked for the local cart");
  });
});
