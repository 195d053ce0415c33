// collage client runtime. The shell links it in the head of every page that
// has a head. It defines the <collage-slot> element: when one is connected,
// the runtime imports the frontend's entry module through the import map
// ("@collage/NAME") and calls its mount(el, ctx), then sets
// data-collage-state to "mounted", or to "failed" with the error in the
// console. A slot whose frontend has no client bundle becomes "static".
// ctx.bff, the base of the frontend's /bff calls, names the version the page
// was rendered with (/bff/NAME@LABEL), so that the calls reach that
// version's BFF even once another is promoted.
// A slot the server rendered from the frontend's own component (its View)
// holds, first, the data it rendered it with, in a <script
// type="application/json" data-collage-data>: the runtime takes it out and
// passes it as ctx.data, so that mount hydrates View instead of fetching
// and rendering again.
// It also gives every frontend the same event bus, window.collage.bus. A
// mount that throws is also told to the page as a "collage:error" event
// on window (detail: frontend, error), which collage dev's overlay shows.

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

// The entry modules of the frontends built again since the page loaded
// (collage dev), by name: the import map cannot change once read.
const entries = new Map();

function contextOf(el, name) {
  const ctx = {
    frontend: name,
    slot: el.getAttribute("name") || "",
    path: location.pathname + location.search,
    params,
    bff: "/bff/" + name + (versions.has(name) ? "@" + versions.get(name) : ""),
    bus,
  };
  if ("collageData" in el) ctx.data = el.collageData;
  return ctx;
}

// takeData moves the data the server rendered el with, if any, from its
// script element to el.collageData: View hydrates the element's other
// children, which the script must not be among.
function takeData(el) {
  const script = el.querySelector(":scope > script[data-collage-data]");
  if (!script) return;
  script.remove();
  try {
    el.collageData = JSON.parse(script.textContent);
  } catch (err) {
    console.error(`collage: the data of frontend "${el.getAttribute("frontend")}" is not JSON`, err);
  }
}

async function mount(el) {
  const name = el.getAttribute("frontend");
  let spec = entries.get(name);
  if (!spec && "@collage/" + name in imports) spec = "@collage/" + name;
  if (!spec) {
    el.dataset.collageState = "static";
    return;
  }
  el.dataset.collageState = "mounting";
  takeData(el);
  try {
    const mod = await import(spec);
    el.collageModule = mod;
    await mod.mount(el, contextOf(el, name));
    el.dataset.collageState = "mounted";
  } catch (err) {
    el.dataset.collageState = "failed";
    console.error(`collage: frontend "${name}" failed to mount`, err);
    window.dispatchEvent(new CustomEvent("collage:error", { detail: { frontend: name, error: err } }));
  }
}

function unmount(el) {
  const mod = el.collageModule;
  delete el.collageModule;
  if (mod && typeof mod.unmount === "function") {
    try {
      mod.unmount(el);
    } catch (err) {
      console.error("collage: unmount failed", err);
    }
  }
}

// remount mounts every slot of frontend again, from the module at entry (a
// URL), its /bff calls pinned to version label: each slot's module
// unmounts first, and the other frontends are left as they are. collage
// dev calls it on each rebuild. It resolves to false, having changed
// nothing, when a mounted module has no unmount: only a reload replaces it.
async function remount(frontend, entry, label) {
  const slots = [...document.querySelectorAll("collage-slot")].filter((el) => el.getAttribute("frontend") === frontend);
  const stuck = (el) => el.collageModule && el.dataset.collageState === "mounted" && typeof el.collageModule.unmount !== "function";
  if (slots.some(stuck)) return false;
  // The new module loads while the old one is still on screen.
  await import(entry).catch(() => {}); // mount reports the failure
  entries.set(frontend, entry);
  if (label) versions.set(frontend, label);
  await Promise.all(
    slots.map((el) => {
      unmount(el);
      return mount(el);
    }),
  );
  return true;
}

class CollageSlot extends HTMLElement {
  connectedCallback() {
    if (!this.dataset.collageState) mount(this);
  }
  disconnectedCallback() {
    unmount(this);
  }
}

window.collage = { bus, remount };
customElements.define("collage-slot", CollageSlot);
