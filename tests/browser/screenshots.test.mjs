// Screenshots of the shop at 1280×900: home, a product, and the cart with
// two items. UPDATE_SCREENSHOTS=1 writes them to docs/screenshot-*.png (look
// at the diff); otherwise they go to a scratch folder and are thrown away.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { addToCart, close, launch, newContext, root, skip, start, tempDir, waitForSlots } from "./server.mjs";

const update = process.env.UPDATE_SCREENSHOTS === "1";
const viewport = { width: 1280, height: 900 };

/** PNG width and height, from its IHDR chunk. */
function pngSize(file) {
  const b = readFileSync(file);
  assert.equal(b.subarray(1, 4).toString("latin1"), "PNG", `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe("screenshots", { skip, timeout: 180_000 }, () => {
  let browser;
  let server;
  let dir;
  before(async () => {
    dir = update ? path.join(root, "docs") : path.join(tempDir(), "screenshots");
    mkdirSync(dir, { recursive: true });
    [browser, server] = await Promise.all([launch(), start()]);
  }, { timeout: 200_000 });
  after(() => Promise.all([close(browser), server?.stop()]), { timeout: 15_000 });

  /** shoot opens a fresh page at path, runs prepare, and saves the viewport as screenshot-NAME.png. */
  async function shoot(name, urlPath, prepare = async () => {}) {
    const context = await newContext(browser, { viewport, deviceScaleFactor: 1, colorScheme: "light", reducedMotion: "reduce" });
    try {
      const page = await context.newPage();
      await page.goto(server.url + urlPath);
      const states = await waitForSlots(page);
      for (const [slot, state] of Object.entries(states)) assert.equal(state, "mounted", `slot ${slot}`);
      await prepare(page);
      await page.waitForLoadState("networkidle");
      await page.evaluate(async () => {
        document.activeElement?.blur();
        await document.fonts.ready;
      });
      await page.mouse.move(0, 0);
      const file = path.join(dir, `screenshot-${name}.png`);
      await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
      assert.deepEqual(pngSize(file), viewport);
      return page;
    } finally {
      await context.close();
    }
  }

  test("home", { timeout: 30_000 }, () => shoot("home", "/"));

  test("product", { timeout: 30_000 }, () => shoot("product", "/products/1"));

  test("cart with two items", { timeout: 30_000 }, () =>
    shoot("cart", "/", async (page) => {
      const names = (await page.locator("collage-slot[frontend=catalog] .catalog-card-name").allTextContents()).map((s) => s.trim());
      await addToCart(page, names[0], 1, assert);
      await addToCart(page, names[1], 2, assert);
      await page.locator("#cart .cart-item").nth(1).waitFor();
      // Let the buttons' "Added ✓" go back to "Add to cart".
      await page.locator("collage-slot[frontend=catalog] .catalog-add", { hasText: "Added" }).first().waitFor({ state: "detached", timeout: 5_000 });
      await page.locator("#cart").scrollIntoViewIfNeeded();
    }));
});
