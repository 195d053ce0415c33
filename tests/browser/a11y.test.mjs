// Accessibility smoke test: titles, landmarks and button names as Chromium's
// accessibility tree computes them, and adding to the cart with the keyboard.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bffPath, cartBadge, close, launch, newContext, skip, start, waitForSlots } from "./server.mjs";

const landmarks = ["banner", "navigation", "main", "contentinfo"];

/** axTree returns Chromium's accessibility tree of the page: [{ role, name }]. */
async function axTree(context, page) {
  const cdp = await context.newCDPSession(page);
  try {
    await cdp.send("Accessibility.enable");
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    return nodes.filter((n) => !n.ignored).map((n) => ({ role: n.role?.value ?? "", name: (n.name?.value ?? "").trim() }));
  } finally {
    await cdp.detach();
  }
}

describe("accessibility", { skip, timeout: 180_000 }, () => {
  let browser;
  let server;
  before(async () => {
    [browser, server] = await Promise.all([launch(), start()]);
  }, { timeout: 200_000 });
  after(() => Promise.all([close(browser), server?.stop()]), { timeout: 15_000 });

  for (const path of ["/", "/products/1", "/products/nope"]) {
    test(`${path}: title, landmarks, named buttons`, { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        await page.goto(server.url + path);
        await waitForSlots(page);
        await page.waitForLoadState("networkidle");

        assert.notEqual((await page.title()).trim(), "", "the page has a title");
        assert.notEqual((await page.getAttribute("html", "lang")) ?? "", "", "<html> has a lang");
        const nodes = await axTree(context, page);
        const roles = new Set(nodes.map((n) => n.role));
        for (const l of landmarks) assert.ok(roles.has(l), `the page has a ${l} landmark (roles: ${[...roles].sort().join(", ")})`);
        assert.equal(nodes.filter((n) => n.role === "main").length, 1, "exactly one main landmark");
        assert.ok(nodes.some((n) => n.role === "heading" && n.name), "the page has a named heading");

        const buttons = nodes.filter((n) => n.role === "button");
        const unnamed = buttons.filter((n) => !n.name);
        assert.equal(unnamed.length, 0, `${unnamed.length} of ${buttons.length} buttons have no accessible name`);
        const links = nodes.filter((n) => n.role === "link");
        assert.deepEqual(links.filter((n) => !n.name), [], "every link has an accessible name");
        if (path !== "/products/nope") assert.ok(buttons.some((b) => /^Add .+ to cart$/.test(b.name)), "there is an add to cart button");
      } finally {
        await context.close();
      }
    });
  }

  test("the keyboard can add to the cart: Tab to the button, press Enter", { timeout: 30_000 }, async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(server.url + "/");
      await waitForSlots(page);
      const label = await page.locator("collage-slot[frontend=catalog] .catalog-add").first().getAttribute("aria-label");
      let focused = null;
      for (let i = 0; i < 60 && focused !== label; i++) {
        await page.keyboard.press("Tab");
        focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? null);
      }
      assert.equal(focused, label, `Tab never reached "${label}"`);
      const answered = page.waitForResponse((r) => bffPath("cart", "items").test(new URL(r.url()).pathname) && r.request().method() === "POST");
      await page.keyboard.press("Enter");
      assert.equal((await answered).status(), 200);
      await page.waitForFunction(
        () => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === "1",
        null,
        { timeout: 5_000 },
      );
      assert.equal((await cartBadge(page).textContent()).trim(), "1");
      // Focus stays on the button, so a second Enter adds another.
      const again = page.waitForResponse((r) => bffPath("cart", "items").test(new URL(r.url()).pathname) && r.request().method() === "POST");
      await page.keyboard.press("Enter");
      await again;
      await page.waitForFunction(
        () => document.querySelector("collage-slot[frontend=header] .header-cart-count")?.textContent.trim() === "2",
        null,
        { timeout: 5_000 },
      );
    } finally {
      await context.close();
    }
  });
});
