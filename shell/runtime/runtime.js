// collage client runtime. The shell links it in the head of every page that
// has a head. It defines the <collage-slot> element: when one is connected,
// the runtime imports the frontend's entry module through the import map
// ("@collage/NAME") and calls its mount(el, ctx), then sets
// data-collage-state to "mounted", or to "failed" with the error in the
// console. A slot whose frontend has no client bundle becomes "static".
// ctx.bff, the base of the frontend's /bff calls, names the version the page
// was rendered with (/bff/NAME@LABEL), so that the calls reach that
// version's BFF even once another is promoted.
// It also gives every frontend the same event bus, window.collage.bus.

const listeners = new Map();
const last = new Map();

const bus = {
  emit(type, detail) {
    last.set(type, detail);
    for (const fn of [...(listeners.get(type) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`collage: a listener of "${type}" failed`, err);
      }
    }
  },
  on(type, fn, options) {
    let set = listeners.get(type);
    if (!set) listeners.set(type, (set = new Set()));
    set.add(fn);
    if (options && options.replay && last.has(type)) fn(last.get(type));
    return () => set.delete(fn);
  },
};

function readImports() {
  const el = document.querySelector('script[type="importmap"]');
  try {
    return el ? JSON.parse(el.textContent).imports || {} : {};
  } catch {
    return {};
  }
}

const imports = readImports();
const paramsMeta = document.querySelector('meta[name="collage-params"]');
const params = Object.fromEntries(new URLSearchParams(paramsMeta ? paramsMeta.content : ""));
// The versions the page was rendered with: a frontend's /bff calls reach
// the BFF of its version, even once another is promoted.
const versionsMeta = document.querySelector('meta[name="collage-versions"]');
const versions = new URLSearchParams(versionsMeta ? versionsMeta.content : "");

async function mount(el) {
  const name = el.getAttribute("frontend");
  const spec = "@collage/" + name;
  if (!(spec in imports)) {
    el.dataset.collageState = "static";
    return;
  }
  el.dataset.collageState = "mounting";
  try {
    const mod = await import(spec);
    el.collageModule = mod;
    await mod.mount(el, {
      frontend: name,
      slot: el.getAttribute("name") || "",
      path: location.pathname + location.search,
      params,
      bff: "/bff/" + name + (versions.has(name) ? "@" + versions.get(name) : ""),
      bus,
    });
    el.dataset.collageState = "mounted";
  } catch (err) {
    el.dataset.collageState = "failed";
    console.error(`collage: frontend "${name}" failed to mount`, err);
  }
}

class CollageSlot extends HTMLElement {
  connectedCallback() {
    if (!this.dataset.collageState) mount(this);
  }
  disconnectedCallback() {
    const mod = this.collageModule;
    if (mod && typeof mod.unmount === "function") {
      try {
        mod.unmount(this);
      } catch (err) {
        console.error("collage: unmount failed", err);
      }
    }
  }
}

window.collage = { bus };
customElements.define("collage-slot", CollageSlot);
