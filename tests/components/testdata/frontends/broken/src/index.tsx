// A component that fails on demand, to test what the server does then.
export function View({ boom, spin }: { boom?: boolean; spin?: boolean }) {
  if (spin) for (;;) {}
  if (boom) throw new Error("the shelf fell over");
  return <p class="broken">fine</p>;
}

export function mount(): void {}
