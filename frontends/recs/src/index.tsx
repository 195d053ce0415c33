import { hydrate, render } from "preact";
import type { MountContext } from "../../collage";
import { RecsView } from "./RecsView";
import type { CartAdd, Recs } from "./types";
import "./styles.css";

const mounted = new WeakSet<HTMLElement>();

/** The recommendations' slot, which the server renders with the BFF's fragment data. */
export function View({ onAdd = () => {}, ...recs }: Recs & { onAdd?: (productId: string) => void }) {
  return <RecsView recs={recs} onAdd={onAdd} />;
}

/**
 * Hydrates the server's markup with the data it was rendered with; or,
 * when the server gave up waiting for them and the slot holds its
 * fallback, loads the recommendations and renders them over it.
 */
export async function mount(el: HTMLElement, ctx: MountContext): Promise<void> {
  mounted.add(el);
  if (ctx.data) {
    const onAdd = (productId: string) => ctx.bus.emit<CartAdd>("cart:add", { productId, qty: 1 });
    hydrate(<View {...(ctx.data as Recs)} onAdd={onAdd} />, el);
    return;
  }
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
