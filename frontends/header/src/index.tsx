import { render } from "preact";
import type { MountContext } from "../../collage";
import { Header, type HeaderProps, type Link } from "./Header";
import "./styles.css";

/**
 * The header as its BFF's Go template renders it, from the same data: the
 * server does not render it (the template does), tests/components checks
 * that the two agree (component.Drift).
 */
export function View({ links, count }: HeaderProps) {
  return <Header links={links} count={count} />;
}

/** Detail of the cart's cart:changed event. */
interface CartChanged {
  count: number;
}

const unmounts = new WeakMap<HTMLElement, () => void>();

export async function mount(el: HTMLElement, ctx: MountContext): Promise<void> {
  let links: Link[] | null = null;
  let count = 0;
  let mounted = true;
  // Until the links arrive the server's markup stays as it is.
  const draw = () => {
    if (mounted && links) render(<Header links={links} count={count} />, el);
  };

  const off = ctx.bus.on<CartChanged>("cart:changed", (detail) => {
    count = detail.count;
    draw();
  });
  unmounts.set(el, () => {
    mounted = false;
    off();
  });
  // The cart may have loaded before we listened: ask it to tell again.
  ctx.bus.emit("cart:sync");

  await fetchLinks(ctx)
    .catch((err: unknown) => {
      console.warn("header: navigation unavailable", err);
      return [{ href: "/", label: "All products", current: new URL(ctx.path, location.href).pathname === "/" }];
    })
    .then((l) => {
      links = l;
      draw();
    });
}

export function unmount(el: HTMLElement): void {
  unmounts.get(el)?.();
  unmounts.delete(el);
  render(null, el);
}

async function fetchLinks(ctx: MountContext): Promise<Link[]> {
  const res = await fetch(`${ctx.bff}/nav?path=${encodeURIComponent(ctx.path)}`);
  if (!res.ok) throw new Error(`GET /nav: ${res.status}`);
  const nav = (await res.json()) as { links: Link[] };
  return nav.links;
}
