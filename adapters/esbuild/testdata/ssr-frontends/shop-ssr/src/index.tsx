import { render } from "preact";
import "./styles.css";

export function View({ name }: { name: string }) {
  if (name === "boom") throw new Error("no such name");
  return <p class="shop-ssr">{name}</p>;
}

export function mount(el: HTMLElement, ctx: { data: { name: string } }): void {
  render(<View name={ctx.data.name} />, el);
}
