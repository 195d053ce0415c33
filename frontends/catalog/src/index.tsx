import { hydrate, render } from "preact";
import type { MountContext } from "../../collage";
import type { CartAdd, Failure, Fragment, Listing, Product } from "./types";
import { ErrorView, ListingView, ProductView, View } from "./views";
import "./styles.css";

export { View };

const mounted = new WeakSet<HTMLElement>();

/**
 * Makes the server's markup work. When the server rendered View, its data
 * came with the page: View hydrates the markup with it. Otherwise (the slot
 * holds its fallback) the data is fetched and rendered; until it arrives
 * the slot's markup stays, and if it never does, it stays for good.
 */
export async function mount(el: HTMLElement, ctx: MountContext): Promise<void> {
  mounted.add(el);
  const onAdd = (productId: string) => ctx.bus.emit<CartAdd>("cart:add", { productId, qty: 1 });
  if (ctx.data) {
    hydrate(<View {...(ctx.data as Fragment)} onAdd={onAdd} />, el);
    return;
  }
  const id = ctx.params.id;
  const category = new URL(ctx.path, location.href).searchParams.get("category") ?? "";
  const url =
    id !== undefined
      ? `${ctx.bff}/products/${encodeURIComponent(id)}`
      : `${ctx.bff}/products${category ? `?category=${encodeURIComponent(category)}` : ""}`;

  let result: { ok: true; data: unknown } | { ok: false; failure: Failure };
  try {
    result = await getJSON(url);
  } catch (err) {
    console.warn("catalog: could not load products", err);
    return;
  }
  if (!mounted.has(el)) return;
  if (!result.ok) {
    render(<ErrorView failure={result.failure} />, el);
  } else if (id !== undefined) {
    render(<ProductView product={result.data as Product} onAdd={onAdd} />, el);
  } else {
    render(<ListingView listing={result.data as Listing} onAdd={onAdd} />, el);
  }
}

export function unmount(el: HTMLElement): void {
  mounted.delete(el);
  render(null, el);
}

/**
 * GETs url. A 4xx is an answer, shown like the server shows it; a network
 * failure or a 5xx throws.
 */
async function getJSON(url: string): Promise<{ ok: true; data: unknown } | { ok: false; failure: Failure }> {
  const res = await fetch(url);
  if (res.ok) return { ok: true, data: await res.json() };
  if (res.status >= 500) throw new Error(`GET ${url}: ${res.status}`);
  const body = (await res.json()) as { error?: { message?: string } };
  return { ok: false, failure: { status: res.status, message: body.error?.message ?? res.statusText } };
}
