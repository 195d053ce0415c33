import type { Recs } from "./types";

export interface RecsViewProps {
  recs: Recs;
  onAdd: (productId: string) => void;
}

/** The recommendations. */
export function RecsView({ recs, onAdd }: RecsViewProps) {
  return (
    <section class="recs" aria-labelledby="recs-title">
      <h2 class="recs-title" id="recs-title">
        {recs.title}
      </h2>
      <ul class="recs-list">
        {recs.products.map((p) => (
          <li class="recs-item" key={p.id}>
            <a class="recs-link" href={`/products/${p.id}`}>
              <span class={`recs-art product-art product-art-${p.id}`} aria-hidden="true"></span>
              <span class="recs-name">{p.name}</span>
            </a>
            <span class="recs-price">{p.priceText}</span>
            <button type="button" class="recs-add" aria-label={`Add ${p.name} to cart`} onClick={() => onAdd(p.id)}>
              Add
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
