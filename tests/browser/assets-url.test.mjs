// The shop with its assets on another origin, as behind a CDN: a second
// `collage serve` on another port serves /assets, and the page's server,
// run with --assets-url, links every module, stylesheet and the runtime
// there. Every frontend mounts, with no integrity error and no CSP
// violation, and the page's own origin serves no asset.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { close, demoFrontends, launch, layoutFrontends, newContext, skip, start, waitForSlots, watch } from "./server.mjs";

describe("assets from another origin", { skip, timeout: 240_000 }, () => {
  let browser, cdn, server;
  before(async () => {
    browser = await launch();
    cdn = await start();
    server = await start({ args: ["--assets-url", `${cdn.url}/assets/`] });
  }, { timeout: 200_000 });
  after(async () => {
    await server?.stop();
    await cdn?.stop();
    await close(browser);
  }, { timeout: 30_000 });

  for (const [path, layout] of [["/", "home.html"], ["/products/1", "product.html"]]) {
    test(`${path}: every slot mounts from the other origin, no integrity error, no CSP violation`, { timeout: 30_000 }, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const w = watch(page);
        const res = await page.goto(server.url + path);
        assert.equal(res.status(), 200);
        const csp = res.headers()["content-security-policy"];
        for (const directive of ["script-src", "style-src", "img-src"])
          assert.match(csp, new RegExp(`${directive} ${cdn.url} 'self'`), `the CSP allows ${cdn.url} in ${directive}`);

        const states = await waitForSlots(page);
        const want = layoutFrontends(layout);
        for (const name of demoFrontends) assert.ok(want.includes(name), `${layout} has a ${name} slot`);
        for (const [name, state] of Object.entries(states)) assert.equal(state, "mounted", `slot ${name}`);
        await page.waitForLoadState("networkidle");

        const linked = await page.evaluate(() => [
          ...Object.values(JSON.parse(document.querySelector('script[type="importmap"]').textContent).imports),
          ...[...document.querySelectorAll("link[rel=modulepreload], link[rel=stylesheet], script[src]")].map((e) => e.src || e.href),
        ]);
        assert.ok(linked.length > demoFrontends.length, `the head links the bundles: ${linked}`);
        for (const url of linked) assert.ok(url.startsWith(`${cdn.url}/assets/`), `${url} is under ${cdn.url}/assets/`);
        const assets = w.requests.filter((r) => new URL(r).pathname.startsWith("/assets/"));
        assert.ok(assets.some((r) => r.endsWith(".css")), `a stylesheet was fetched: ${assets}`);
        for (const r of assets) assert.ok(r.startsWith(cdn.url + "/"), `${r} came from the assets' origin`);
        await w.assertClean(assert);
        const styled = await page.evaluate(() => [...document.styleSheets].filter((s) => s.href).length);
        assert.ok(styled > 0, "the stylesheets from the other origin apply");
      } finally {
        await context.close();
      }
    });
  }
});
