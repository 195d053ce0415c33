// The demo shop in a real Chromium against the real `collage serve` (and
// `collage dev`): pages load cleanly, the cart works through its BFF, an
// unknown product is a 404, and the server's HTML stands without JavaScript.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addToCart, bffPath, cartBadge, close, demoFrontends, launch, layoutFrontends, newContext, skip, start, waitForSlots, watch } from "./server.mjs";

const shared = ["preact", "preact/hooks", "preact/jsx-runtime"];

describe("shop", { skip, timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  }, { timeout: 60_000 });
  after(() => close(browser), { timeout: 15_000 });

  for (const mode of ["serve", "dev"]) {
    describe(`collage ${mode}`, () => {
      let server;
      before(async () => {
        server = await start({ mode });
      }, { timeout: 200_000 });
      after(() => server?.stop(), { timeout: 10_000 });

      for (const [path, layout] of [["/", "home.html"], ["/products/1", "product.html"]]) {
        test(`${path} loads: every slot mounts, no errors, no CSP violations, shared modules once`, { timeout: 30_000 }, async () => {
          const context = await newContext(browser);
          try {
            const page = await context.newPage();
            const w = watch(page);
            const res = await page.goto(server.url + path);
            assert.equal(res.status(), 200);
            const states = await waitForSlots(page);
            const want = layoutFrontends(layout);
            assert.deepEqual(Object.keys(states).sort(), [...new Set(want)].sort(), `the page has the slots of ${layout}`);
            for (const name of demoFrontends) assert.ok(want.includes(name), `${layout} has a ${name} slot`);
            for (const [name, state] of Object.entries(states)) assert.equal(state, "mounted", `slot ${name}`);
            await page.waitForLoadState("networkidle");

            const imports = await page.evaluate(
              () => JSON.parse(document.querySelector('script[type="importmap"]').textContent).imports,
            );
            for (const spec of shared) {
              const url = imports[spec];
              assert.match(url ?? "", /^\/assets\/_shared\//, `the import map maps ${spec} under /assets/_shared/`);
              const n = w.requests.filter((r) => new URL(r).pathname === url).length;
              assert.equal(n, 1, `${spec} (${url}) was requested ${n} times`);
            }
            const sharedRequests = w.requests.filter((r) => new URL(r).pathname.startsWith("/assets/_shared/"));
            assert.deepEqual(sharedRequests, [...new Set(sharedRequests)], "no shared module is requested twice");
            await w.assertClean(assert);
          } finally {
            await context.close();
          }
        });
      }
    });
  }

  describe("collage serve", () => {
    let server;
    before(async () => {
      server = await start();
    }, { timeout: 200_000 });
    after(() => server?.stop(), { timeout: 10_000 });

    test("add to cart from the catalog: the cart lists it, the badge counts it, a reload keeps it", { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const w = watch(page);
        await page.goto(server.url + "/");
        await waitForSlots(page);
        assert.equal((await cartBadge(page).textContent()).trim(), "0");

        await addToCart(page, "House Blend Beans", 1, assert);
        const cart = page.locator("#cart");
        await cart.locator(".cart-item-name", { hasText: "House Blend Beans" }).waitFor();
        assert.equal((await cart.locator(".cart-count").textContent()).trim(), "1");
        assert.equal(await page.locator("collage-slot[frontend=header] .header-cart").getAttribute("aria-label"), "Cart, 1 item");

        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === "collage_cart");
        assert.ok(session, `the cart BFF set the collage_cart cookie (cookies: ${cookies.map((c) => c.name)})`);
        assert.equal(session.httpOnly, true, "collage_cart is HttpOnly");
        assert.equal(await page.evaluate(() => document.cookie.includes("collage_cart")), false, "scripts cannot read collage_cart");

        await addToCart(page, "House Blend Beans", 2, assert);
        await cart.locator(".cart-item-meta", { hasText: /^2 ×/ }).waitFor();

        await page.waitForLoadState("networkidle");
        await page.reload();
        // The server renders the cart from the cookie, before any script.
        assert.match(await cart.locator(".cart-item-name").first().textContent(), /House Blend Beans/);
        await waitForSlots(page);
        await page.waitForFunction(
          () => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === "2",
        );
        assert.equal(await cart.locator(".cart-item").count(), 1);
        assert.match(await cart.locator(".cart-item-meta").textContent(), /^2 ×/);
        await w.assertClean(assert);
      } finally {
        await context.close();
      }
    });

    test("add to cart from the product page and the recommendations", { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const w = watch(page);
        await page.goto(server.url + "/products/1");
        await waitForSlots(page);
        await addToCart(page, "House Blend Beans", 1, assert);
        const rec = page.locator("collage-slot[frontend=recs] .recs-item").first();
        const name = (await rec.locator(".recs-name").textContent()).trim();
        const answered = page.waitForResponse((r) => bffPath("cart", "items").test(new URL(r.url()).pathname) && r.request().method() === "POST");
        await rec.getByRole("button", { name: `Add ${name} to cart` }).click();
        assert.equal((await answered).status(), 200);
        await page.locator("#cart .cart-item-name", { hasText: name }).waitFor();
        await page.waitForFunction(
          () => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === "2",
        );
        await w.assertClean(assert);
      } finally {
        await context.close();
      }
    });

    test("the page's icon exists (Chromium asks for one on every page)", { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        await page.goto(server.url + "/");
        const icon = await page.evaluate(() => document.querySelector('link[rel~="icon"]')?.href ?? null);
        if (icon?.startsWith("data:")) return;
        const url = icon ?? server.url + "/favicon.ico";
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        assert.ok(res.status < 400, `no <link rel="icon">, and GET ${new URL(url).pathname} answers ${res.status}: every page load logs "Failed to load resource: 404" in the console`);
      } finally {
        await context.close();
      }
    });

    test("/products/nope is the 404 page, with status 404", { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const notFound = (url, status) =>
          (url.pathname === "/products/nope" || bffPath("catalog", "products/nope").test(url.pathname)) && (status === 404 || status === 0);
        const w = watch(page, { expected: notFound });
        const res = await page.goto(server.url + "/products/nope");
        assert.equal(res.status(), 404);
        const catalog = page.locator("collage-slot[frontend=catalog]");
        assert.equal((await catalog.locator("h1").textContent()).trim(), "Product not found");
        await waitForSlots(page);
        // Once the catalog has mounted it still says so.
        assert.equal((await catalog.locator("h1").textContent()).trim(), "Product not found");
        await catalog.getByRole("link", { name: "Back to all products" }).waitFor();
        await page.waitForLoadState("networkidle");
        await w.assertClean(assert);
      } finally {
        await context.close();
      }
    });

    test("every product's picture is a drawing from a file, the same from the server and the frontends", { timeout: 30_000 }, async () => {
      /** The pictures of a page (or of one frontend's slot): their classes, text and drawing. */
      const pictures = (page, frontend = null) =>
        page.evaluate((frontend) =>
          [...document.querySelectorAll(frontend ? `collage-slot[frontend=${frontend}] .product-art` : ".product-art")].map((el) => ({
            className: el.className,
            text: el.textContent,
            drawing: getComputedStyle(el, "::after").backgroundImage,
          })),
        frontend);
      const noScript = await newContext(browser, { javaScriptEnabled: false });
      const context = await newContext(browser);
      try {
        const plain = await noScript.newPage();
        await plain.goto(server.url + "/");
        const page = await context.newPage();
        const w = watch(page);
        await page.goto(server.url + "/");
        await waitForSlots(page);
        await page.waitForLoadState("networkidle");

        // The async recs slot is in a <template> without scripts, so compare the catalog.
        const before = await pictures(plain, "catalog");
        const listing = await (await fetch(server.url + "/bff/catalog/products", { signal: AbortSignal.timeout(5_000) })).json();
        assert.equal(before.length, listing.products.length, "one picture per product");
        assert.deepEqual(await pictures(page, "catalog"), before, "the catalog frontend draws the pictures the server drew");
        assert.ok((await pictures(page, "recs")).length > 0, "the recommendations have pictures");
        // The cart draws its items' pictures too.
        await addToCart(page, "House Blend Beans", 1, assert);
        await page.locator("#cart .cart-thumb.product-art-1").waitFor();
        const urls = new Set();
        for (const p of [...before, ...(await pictures(page))]) {
          assert.equal(p.text, "", `${p.className} draws no text (an emoji needs a font the machine may not have)`);
          const m = /^url\("(.+\.svg)"\)$/.exec(p.drawing);
          assert.ok(m, `${p.className} is drawn from an SVG file, not ${p.drawing}`);
          urls.add(m[1]);
        }
        for (const url of urls) {
          const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
          assert.equal(res.status, 200, `GET ${url}`);
          assert.match(res.headers.get("content-type") ?? "", /^image\/svg\+xml/, `GET ${url}`);
        }
        await w.assertClean(assert);
      } finally {
        await Promise.all([noScript.close(), context.close()]);
      }
    });

    test("without JavaScript the server's HTML shows the products", { timeout: 30_000 }, async () => {
      const context = await newContext(browser, { javaScriptEnabled: false });
      try {
        const page = await context.newPage();
        const res = await page.goto(server.url + "/");
        assert.equal(res.status(), 200);
        const listing = await (await fetch(server.url + "/bff/catalog/products", { signal: AbortSignal.timeout(5_000) })).json();
        const want = listing.products.map((p) => p.name);
        assert.ok(want.length > 0, "the catalog BFF lists products");
        const names = page.locator("collage-slot[frontend=catalog] .catalog-card-name");
        assert.deepEqual((await names.allTextContents()).map((s) => s.trim()), want);
        for (const name of want) {
          assert.ok(await page.locator("collage-slot[frontend=catalog]").getByText(name, { exact: true }).isVisible(), `${name} is visible`);
        }
        assert.ok(await page.locator("collage-slot[frontend=catalog] .catalog-price").first().isVisible(), "prices are visible");
        assert.ok(await page.locator("footer").isVisible(), "the footer is visible");

        await page.goto(server.url + "/products/1");
        assert.ok(await page.getByRole("heading", { level: 1, name: "House Blend Beans" }).isVisible());
        // No script ran, so no slot was mounted.
        assert.equal(await page.locator("collage-slot[data-collage-state]").count(), 0);
      } finally {
        await context.close();
      }
    });
  });
});
