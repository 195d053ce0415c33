// A project of its own Go module in a real Chromium: `collage new` with
// this checkout, `collage add banner`, and the project's own binary running
// `collage dev`, which builds the project's main package and runs it for
// the BFFs. Both frontends mount; an edit of a BFF's Go code reloads the
// open page by itself with the new code serving; a Go compile error shows
// in the overlay while the last build serves, and its fix clears it; a
// frontend's edit shows without a reload (dev.test.mjs covers that loop).
//
// It prints its figures as lines starting "figure:": a Go edit → the page
// reloaded and its slot mounted with the new text, and a compile error →
// the overlay.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { close, edit, eventsPath, figure, launch, newContext, newProject, now, skip, start, waitForSlots, watch } from "./server.mjs";

const helloGo = "frontends/hello/bff/hello.go";

/** greet asks frontend's form for the greeting of name and waits for it. */
async function greet(page, frontend, name, want) {
  const slot = page.locator(`collage-slot[frontend=${frontend}]`);
  await slot.getByRole("textbox", { name: "Your name" }).fill(name);
  await slot.getByRole("button", { name: /^Greet me/ }).click();
  await slot.locator(`.${frontend}-text`, { hasText: want }).waitFor({ timeout: 10_000 });
}

describe("a project of its own: collage new, add and dev", { skip, timeout: 900_000 }, () => {
  let dir, server, browser, context, page, w;

  before(
    async () => {
      let bin;
      ({ dir, bin } = await newProject({ add: ["banner"] }));
      server = await start({ mode: "dev", cwd: dir, bin });
      browser = await launch();
      context = await newContext(browser);
      // Each page load records when hello's slot first says it mounted,
      // with its text, and when the overlay first showed: both on the
      // page's clock, which is the wall clock.
      await context.addInitScript(() => {
        window.__mounted = null;
        window.__overlayAt = null;
        const seen = () => {
          const at = performance.timeOrigin + performance.now();
          const hello = document.querySelector("collage-slot[frontend=hello]");
          if (window.__mounted === null && hello?.dataset.collageState === "mounted") {
            window.__mounted = { at, text: hello.querySelector(".hello-text")?.textContent };
          }
          if (window.__overlayAt === null && document.querySelector("[data-collage-overlay]")) window.__overlayAt = at;
        };
        new MutationObserver(seen).observe(document, { childList: true, subtree: true, attributes: true });
      });
      page = await context.newPage();
      // A page that reloads aborts its event stream: that is no failure.
      w = watch(page, { expected: (u) => u.pathname === eventsPath });
      await page.goto(server.url + "/");
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await context?.close();
    await close(browser);
    await server?.stop();
  });

  const marker = () => page.evaluate(() => window.__marker);
  const overlay = () => page.locator("[data-collage-overlay]");

  test("both frontends mount, and hello's form asks its BFF", { timeout: 60_000 }, async () => {
    assert.deepEqual(await waitForSlots(page), { hello: "mounted", banner: "mounted" });
    // The server's page lines say, should the fragment not come, whether
    // the slot timed out or failed, and why.
    const pages = () => server.log().split("\n").filter((l) => l.includes(" page ")).join("\n");
    assert.equal((await page.locator("collage-slot[frontend=hello] .hello-text").textContent()).trim(), "Hello, world!", `the server's page lines:\n${pages()}`);
    await greet(page, "hello", "Ada", "Hello, Ada!");
    assert.equal(await overlay().count(), 0, "no overlay");
    assert.deepEqual(w.problems, []);
  });

  test("an edit of a BFF's Go code reloads the page by itself, the new code serving", { timeout: 240_000 }, async () => {
    await page.evaluate(() => (window.__marker = "kept"));
    const t0 = now();
    edit(dir, helloGo, (s) => s.replace('"Hello, " + name', '"Howdy, " + name'));
    await page.waitForFunction(() => window.__marker === undefined && window.__mounted?.text === "Howdy, world!", null, { timeout: 180_000, polling: 100 });
    figure("Go edit → page reloaded", (await page.evaluate(() => window.__mounted.at)) - t0);
    assert.deepEqual(await waitForSlots(page), { hello: "mounted", banner: "mounted" });
    await greet(page, "hello", "Ada", "Howdy, Ada!");
    assert.equal(await overlay().count(), 0, "no overlay");
    assert.deepEqual(w.problems, []);
  });

  test("a Go compile error shows in the overlay while the last build serves; its fix clears it", { timeout: 420_000 }, async () => {
    await page.evaluate(() => {
      window.__marker = "kept";
      window.__overlayAt = null;
    });
    const t0 = now();
    edit(dir, helloGo, (s) => s.replace('name = "world"', "name = world"));
    await overlay().waitFor({ timeout: 180_000 });
    figure("Go compile error → overlay", (await page.evaluate(() => window.__overlayAt)) - t0);
    const go = overlay().locator("section[data-source=go]");
    assert.equal(await go.count(), 1, `the overlay tells no Go problem: ${await overlay().textContent()}`);
    const text = await go.textContent();
    assert.match(text, /the Go code/, "the overlay names the Go code");
    assert.match(text, /frontends\/hello\/bff\/hello\.go:\d+:\d+/, "the overlay gives file:line:column");
    assert.match(text, /undefined: world/, "the overlay gives the compiler's message");

    // The last good build still serves, and the page was not reloaded.
    await greet(page, "hello", "Grace", "Howdy, Grace!");
    assert.equal(await marker(), "kept", "the page reloaded on a compile error");

    edit(dir, helloGo, (s) => s.replace("name = world", 'name = "world"').replace('"Howdy, " + name', '"Hi, " + name'));
    await page.waitForFunction(
      () => window.__marker === undefined && window.__mounted?.text === "Hi, world!" && document.querySelector("[data-collage-overlay]") === null,
      null,
      { timeout: 180_000, polling: 100 },
    );
    assert.deepEqual(await waitForSlots(page), { hello: "mounted", banner: "mounted" });
    assert.deepEqual(w.problems, []);
  });

  test("an edit of a frontend's TSX shows without a reload", { timeout: 60_000 }, async () => {
    await page.evaluate(() => (window.__marker = "kept"));
    edit(dir, "frontends/banner/src/index.tsx", (s) => s.replace(/(\s)Greet me(\s)/, "$1Greet me, edited$2"));
    const banner = page.locator("collage-slot[frontend=banner]");
    await banner.getByRole("button", { name: "Greet me, edited" }).waitFor({ timeout: 15_000 });
    assert.equal(await marker(), "kept", "the page reloaded");
    assert.equal(await banner.getAttribute("data-collage-state"), "mounted");
    assert.equal(await page.locator("collage-slot[frontend=hello]").getByRole("button").textContent(), "Greet me", "hello changed");
    await greet(page, "banner", "Lin", "Hello, Lin!");
    assert.equal(await overlay().count(), 0, "no overlay");
    assert.deepEqual(w.problems, []);
  });
});
