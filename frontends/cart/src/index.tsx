import { render } from "preact";
import type { MountContext } from "../../collage";
import { CartView } from "./CartView";
import type { Cart, CartAdd, CartChanged } from "./types";
import "./styles.css";

/**
 * The cart as its BFF's Go template renders it, from the same data: the
 * server does not render it (the template does), tests/components checks
 * that the two agree (component.Drift).
 */
export function View(cart: Cart) {
  return <CartView cart={cart} error={null} onRemove={() => {}} />;
}

const unmounts = new WeakMap<HTMLElement, () => void>();

/**
 * Loads the cart, renders it over the server's markup and announces its
 * count; then adds what cart:add asks for and removes what the shopper
 * removes, one change at a time so that answers cannot arrive out of order.
 */
export async function mount(el: HTMLElement, ctx: MountContext): Promise<void> {
  let cart: Cart | null = null;
  let error: string | null = null;
  let mounted = true;
  let queue: Promise<void> = Promise.resolve();

  const draw = () => {
    if (mounted) render(<CartView cart={cart} error={error} onRemove={remove} />, el);
  };
  const announce = () => {
    if (cart) ctx.bus.emit<CartChanged>("cart:changed", { count: cart.count });
  };
  // change runs one request after the ones before it have finished.
  const change = (what: string, req: () => Promise<Cart>) => {
    queue = queue.then(async () => {
      try {
        cart = await req();
        error = null;
        draw();
        announce();
      } catch (err) {
        console.warn(`cart: could not ${what}`, err);
        error = `Sorry, we could not ${what}. Please try again.`;
        draw();
      }
    });
  };
  const api = (method: string, path: string, body?: unknown) => send(`${ctx.bff}${path}`, method, body);
  const remove = (productId: string) =>
    change("remove that item", () => api("DELETE", `/items/${encodeURIComponent(productId)}`));

  const offAdd = ctx.bus.on<CartAdd>("cart:add", ({ productId, qty }) =>
    change("add that to your cart", () => api("POST", "/items", { productId, qty })),
  );
  const offSync = ctx.bus.on("cart:sync", announce);
  unmounts.set(el, () => {
    mounted = false;
    offAdd();
    offSync();
  });

  queue = api("GET", "/cart").then(
    (c) => {
      cart = c;
      draw();
      announce();
    },
    (err: unknown) => {
      console.warn("cart: could not load the cart", err);
      error = "Sorry, we could not load your cart. Please reload the page.";
      draw();
    },
  );
  // Resolving once the cart is on screen tells the runtime it is usable.
  await queue;
}

export function unmount(el: HTMLElement): void {
  unmounts.get(el)?.();
  unmounts.delete(el);
  render(null, el);
}

/** Sends a JSON request with the session cookie and returns the cart it answers. */
async function send(url: string, method: string, body?: unknown): Promise<Cart> {
  const res = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? undefined : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const detail = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(`${method} ${url}: ${res.status} ${detail?.error?.message ?? ""}`.trim());
  }
  return (await res.json()) as Cart;
}
