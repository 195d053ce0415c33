import { render } from "preact";
import type { MountContext } from "../../collage";
import { RecsView } from "./RecsView";
import type { CartAdd, Recs } from "./types";
import "./styles.css";

const mounted = new WeakSet<HTMLElement>();

/**
 * Loads the recommendations and renders them: over the server's markup, or
 * over the slot's fallback when the server gave up waiting for them.
 */
export async function mount(el: HTMLElement, ctx: MountContext): Promise<void> {
  mounted.add(el);
  const exclude = ctx.params.id ?? "";
  let recs: Recs;
  try {
    const res = await fetch(`${ctx.bff}/recs?exclude=${encodeURIComponent(exclude)}`);
    if (!res.ok) throw new Error(`GET /recs: ${res.status}`);
    recs = (await res.json()) as Recs;
  } catch (err) {
    console.warn("recs: recommendations unavailable", err);
    return;
  }
  if (!mounted.has(el)) return;
  const onAdd = (productId: string) => ctx.bus.emit<CartAdd>("cart:add", { productId, qty: 1 });
  render(<RecsView recs={recs} onAdd={onAdd} />, el);
}

export function unmount(el: HTMLElement): void {
  mounted.delete(el);
  render(null, el);
}
