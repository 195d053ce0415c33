// One team's part slow or down never breaks the page: the recs slot falls
// back, the rest of the page mounts and works, and the footer is not held up.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addToCart, bffPath, close, launch, newContext, skip, start, waitForSlots, watch, writeConfig } from "./server.mjs";

/** The recs BFF's delay, well past the recs slot's timeout (300ms in the layouts). */
const delayMs = 2_000;
const others = ["header", "catalog", "cart"];

async function recsFallback(page) {
  const slot = page.locator("collage-slot[frontend=recs]");
  return {
    reason: await slot.getAttribute("data-collage-fallback"),
    shown: await slot.locator(".recs-fallback").isVisible(),
    text: (await slot.textContent()).trim(),
  };
}

describe("resilience", { skip, timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  }, { timeout: 60_000 });
  after(() => close(browser), { timeout: 15_000 });

  describe(`recs slowed to ${delayMs}ms`, () => {
    let server;
    before(async () => {
      server = await start({ set: [`recs.delay=${delayMs}ms`] });
    }, { timeout: 200_000 });
    after(() => server?.stop(), { timeout: 10_000 });

    for (const path of ["/", "/products/1"]) {
      test(`${path}: recs falls back, the footer is not delayed, the rest mounts and works`, { timeout: 30_000 }, async (t) => {
        const context = await newContext(browser);
        try {
          const page = await context.newPage();
          const w = watch(page);
          const res = await page.goto(server.url + path, { waitUntil: "commit" });
          assert.equal(res.status(), 200);
          await page.locator("footer").waitFor({ state: "attached" });
          await page.waitForLoadState("domcontentloaded");
          // In the page's clock, from the start of the navigation. A loose
          // bound: the footer comes at once (or after the slot gives up at
          // ~300ms), the BFF answers at 2s. DOMContentLoaded also waits for
          // the modules to run, so it is only reported.
          const at = await page.evaluate(() => {
            const nav = performance.getEntriesByType("navigation")[0];
            return { ttfb: nav.responseStart, footer: window.__footerAt, dcl: nav.domContentLoadedEventStart };
          });
          const timing = `first byte ${Math.round(at.ttfb)}ms, footer ${Math.round(at.footer)}ms, DOMContentLoaded ${Math.round(at.dcl)}ms`;
          t.diagnostic(timing);
          assert.ok(at.footer !== null && at.footer < 1_500, `the footer was delayed: ${timing}`);

          const fb = await recsFallback(page);
          assert.ok(fb.reason === "timeout" || fb.reason === "error", `recs slot data-collage-fallback=${fb.reason}`);
          assert.ok(fb.shown, `the recs fallback is shown, not: ${fb.text}`);
          assert.equal(fb.text, "Recommendations are unavailable right now.");

          const states = await waitForSlots(page, { frontends: others, timeout: 1_500 });
          assert.deepEqual(states, { header: "mounted", catalog: "mounted", cart: "mounted" });
          await addToCart(page, "House Blend Beans", 1, assert);
          await page.locator("#cart .cart-item-name", { hasText: "House Blend Beans" }).waitFor();

          // The recs frontend then renders what its BFF answers, late, over the fallback.
          await waitForSlots(page, { frontends: ["recs"], timeout: delayMs + 5_000 });
          await page.locator("collage-slot[frontend=recs] .recs-item").first().waitFor({ state: "visible" });
          await w.assertClean(assert);
        } finally {
          await context.close();
        }
      });
    }

    test("a slot past its deadline is marked as a timeout", { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const reasons = [];
        for (let i = 0; i < 8; i++) {
          await page.goto(server.url + "/", { waitUntil: "domcontentloaded" });
          reasons.push(await page.locator("collage-slot[frontend=recs]").getAttribute("data-collage-fallback"));
        }
        assert.deepEqual(reasons, Array(8).fill("timeout"), `data-collage-fallback of 8 loads: ${reasons.join(", ")}`);
      } finally {
        await context.close();
      }
    });
  });

  describe("recs down", () => {
    let server;
    before(async () => {
      server = await start({ config: writeConfig("recs-down.yaml", { recs: "http://127.0.0.1:1" }) });
      // A fresh server's first pages fault its code back in, which on a busy
      // machine has outlasted the recs slot's 300 ms: the refused BFF then
      // shows as a timeout. This test is about a BFF that is down, so the
      // pages it checks are not the server's first.
      for (const path of ["/", "/products/1"]) await (await fetch(server.url + path)).arrayBuffer();
    }, { timeout: 200_000 });
    after(() => server?.stop(), { timeout: 10_000 });

    for (const path of ["/", "/products/1"]) {
      test(`${path}: recs falls back, the page is 200, the rest mounts and works`, { timeout: 30_000 }, async () => {
        const context = await newContext(browser);
        try {
          const page = await context.newPage();
          // The recs frontend's own call to its BFF fails too; nothing else may.
          const w = watch(page, { expected: (url, status) => bffPath("recs", ".*").test(url.pathname) && (status === 0 || status >= 500) });
          const res = await page.goto(server.url + path);
          assert.equal(res.status(), 200);
          const fb = await recsFallback(page);
          assert.equal(fb.reason, "error");
          assert.ok(fb.shown, `the recs fallback is shown, not: ${fb.text}`);

          const states = await waitForSlots(page);
          for (const name of others) assert.equal(states[name], "mounted", `slot ${name}`);
          await addToCart(page, "House Blend Beans", 1, assert);
          await page.locator("#cart .cart-item-name", { hasText: "House Blend Beans" }).waitFor();
          await page.waitForLoadState("networkidle");
          assert.ok((await recsFallback(page)).shown, "the fallback stays when the recs frontend cannot reach its BFF");
          assert.ok(await page.locator("footer").isVisible());
          await w.assertClean(assert);
        } finally {
          await context.close();
        }
      });
    }
  });
});
