import { render } from "preact";
import { useState } from "preact/hooks";
import { price } from "./format";
import "./styles.css";

function Counter(props: { cents: number }) {
  const [n, setN] = useState(1);
  return (
    <button class="shop-x" onClick={() => setN(n + 1)}>
      {n} × {price(props.cents)}
    </button>
  );
}

export function mount(el: HTMLElement, ctx: { cents: number }): void {
  render(<Counter cents={ctx.cents} />, el);
}

export function unmount(el: HTMLElement): void {
  render(null, el);
}
