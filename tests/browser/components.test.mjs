// The catalog and the recommendations are rendered on the server from their
// own components (View) and hydrated in the browser: hydration changes
// nothing in the DOM but the data's script element, fetches nothing again,
// warns of no mismatch, and the buttons work afterwards.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addToCart, bffPath, close, launch, newContext, skip, start, waitForSlots, watch } from "./server.mjs";

const hydrated = ["catalog", "recs"];

describe("components", { skip, timeout: 240_000 }, () => {
  let browser, server;
  before(async () => {
    browser = await launch();
    server = await start({ mode: "serve" });
    // The first page of a version loads its server bundle into the engine,
    // which can outlast the slots' deadlines on a busy machine: those
    // slots show their fallback, which these tests are not about.
    for (const path of ["/", "/products/3"]) await (await fetch(server.url + path, { signal: AbortSignal.timeout(10_000) })).text();
  }, { timeout: 200_000 });
  after(async () => {
    await server?.stop();
    await close(browser);
  }, { timeout: 20_000 });

  for (const path of ["/", "/products/3"]) {
    test(`${path}: hydration changes nothing but takes the data out, and fetches nothing again`, { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const w = watch(page);
        const warnings = [];
        page.on("console", (msg) => {
          if (/hydrat|mismatch/i.test(msg.text())) warnings.push(msg.text());
        });
        // Record every change inside the hydrated slots once the page is
        // parsed, before the runtime (a module, so deferred) runs.
        await page.addInitScript((names) => {
          window.__changes = [];
          const observer = new MutationObserver((records) => {
            for (const r of records) {
              const slot = (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest("collage-slot");
              if (!slot || !names.includes(slot.getAttribute("frontend"))) continue;
              if (r.type === "attributes" && r.target === slot) continue; // data-collage-state, data-collage-async
              if (r.type === "childList" && r.target === slot && r.addedNodes.length === 0 &&
                  [...r.removedNodes].every((n) => n.nodeName === "SCRIPT")) {
                window.__changes.push(`${slot.getAttribute("frontend")}: data taken out`);
                continue;
              }
              const what = r.type === "attributes" ? `attribute ${r.attributeName}` : r.type === "characterData" ? `text "${r.target.data}"` :
                `children +[${[...r.addedNodes].map((n) => n.nodeName)}] -[${[...r.removedNodes].map((n) => n.nodeName)}]`;
              window.__changes.push(`${slot.getAttribute("frontend")}: ${r.target.nodeName} ${what}`);
            }
          });
          document.addEventListener("readystatechange", () => {
            if (document.readyState === "interactive")
              observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
          });
        }, hydrated);
        const res = await page.goto(server.url + path);
        assert.equal(res.status(), 200);
        await page.waitForLoadState("domcontentloaded");
        const states = await waitForSlots(page);
        for (const name of hydrated) assert.equal(states[name], "mounted", `slot ${name}`);
        await page.waitForLoadState("networkidle");

        const changes = await page.evaluate(() => window.__changes);
        const unexpected = changes.filter((c) => !c.endsWith("data taken out"));
        assert.deepEqual(unexpected, [], "hydration changed the server's DOM");
        for (const name of hydrated) {
          assert.ok(changes.includes(`${name}: data taken out`), `${name}'s data was taken out (changes: ${changes.join("; ")})`);
          assert.equal(await page.locator(`collage-slot[frontend=${name}] > script`).count(), 0);
        }
        for (const name of hydrated) {
          const refetched = w.requests.filter((u) => new URL(u).pathname.startsWith(`/bff/${name}`));
          assert.deepEqual(refetched, [], `${name} fetched its data again`);
        }
        assert.deepEqual(warnings, []);
        await w.assertClean(assert);
      } finally {
        await context.close();
      }
    });
  }

  test("add to cart works after hydration, from the catalog and from the recommendations", { timeout: 30_000 }, async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const w = watch(page);
      await page.goto(server.url + "/products/3");
      await waitForSlots(page);
      await addToCart(page, "Cold Brew Kit", 1, assert);
      const answered = page.waitForResponse((r) => bffPath("cart", "items").test(new URL(r.url()).pathname) && r.request().method() === "POST");
      await page.locator("collage-slot[frontend=recs]").getByRole("button").first().click();
      assert.equal((await answered).status(), 200);
      await page.waitForFunction(
        () => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === "2",
        null,
        { timeout: 5_000 },
      );
      const added = page.locator("collage-slot[frontend=catalog]").getByRole("button", { name: "Add Cold Brew Kit to cart" });
      assert.match(await added.textContent(), /Added/, "the hydrated button's state changed");
      await w.assertClean(assert);
    } finally {
      await context.close();
    }
  });
});
