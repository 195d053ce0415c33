import { render } from "preact";

export function mount(el: HTMLElement): void {
  render(<p>client</p>, el);
}
