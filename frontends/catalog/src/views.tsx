// The catalog's views. The server renders View with the BFF's fragment
// data, and mount hydrates the same View in the browser.
import { useEffect, useState } from "preact/hooks";
import type { Failure, Fragment, Listing, Product } from "./types";

export type AddToCart = (productId: string) => void;

/** The catalog's slot: a listing, a product page or an error. */
export function View({ listing, product, error, onAdd = () => {} }: Fragment & { onAdd?: AddToCart }) {
  if (error) return <ErrorView failure={error} />;
  if (product) return <ProductView product={product} onAdd={onAdd} />;
  return <ListingView listing={listing ?? { title: "", products: [] }} onAdd={onAdd} />;
}

export function ListingView({ listing, onAdd }: { listing: Listing; onAdd: AddToCart }) {
  const n = listing.products.length;
  return (
    <section class="catalog" aria-labelledby="catalog-title">
      <div class="catalog-head">
        <h1 class="catalog-title" id="catalog-title">
          {listing.title}
        </h1>
        <p class="catalog-count">{`${n} ${n === 1 ? "product" : "products"}`}</p>
      </div>
      <ul class="catalog-grid">
        {listing.products.map((p) => (
          <li class="catalog-card" key={p.id}>
            <a class="catalog-card-link" href={`/products/${p.id}`}>
              <Art product={p} />
              <h2 class="catalog-card-name">{p.name}</h2>
            </a>
            <p class="catalog-card-desc">{p.description}</p>
            <div class="catalog-card-foot">
              <span class="catalog-price">{p.priceText}</span>
              <AddButton product={p} onAdd={onAdd} />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ProductView({ product: p, onAdd }: { product: Product; onAdd: AddToCart }) {
  return (
    <article class="catalog catalog-detail" aria-labelledby="catalog-title">
      <nav class="catalog-crumbs" aria-label="Breadcrumb">
        <a href="/">All products</a>
        <span aria-hidden="true">/</span>
        <a href={`/?category=${encodeURIComponent(p.category)}`}>{p.categoryName}</a>
      </nav>
      <div class="catalog-detail-body">
        <Art product={p} />
        <div class="catalog-detail-info">
          <h1 class="catalog-title" id="catalog-title">
            {p.name}
          </h1>
          <p class="catalog-price catalog-price-large">{p.priceText}</p>
          <p class="catalog-detail-desc">{p.description}</p>
          <AddButton product={p} onAdd={onAdd} large />
        </div>
      </div>
    </article>
  );
}

export function ErrorView({ failure }: { failure: Failure }) {
  return (
    <section class="catalog catalog-error" role="alert">
      <p class="catalog-error-code">{failure.status}</p>
      <h1 class="catalog-title">{failure.status === 404 ? "Product not found" : "Nothing to show here"}</h1>
      <p class="catalog-error-message">{failure.message}</p>
      <a class="catalog-button" href="/">
        Back to all products
      </a>
    </section>
  );
}

function Art({ product: p }: { product: Product }) {
  return (
    <span class={`catalog-art product-art product-art-${p.id}`} aria-hidden="true"></span>
  );
}

/** How long a button says "Added" after a click. */
const ADDED_MS = 1500;

function AddButton({ product: p, onAdd, large }: { product: Product; onAdd: AddToCart; large?: boolean }) {
  const [added, setAdded] = useState(false);
  useEffect(() => {
    if (!added) return;
    const t = setTimeout(() => setAdded(false), ADDED_MS);
    return () => clearTimeout(t);
  }, [added]);
  return (
    <button
      type="button"
      class={large ? "catalog-add catalog-add-large" : "catalog-add"}
      aria-label={`Add ${p.name} to cart`}
      onClick={() => {
        onAdd(p.id);
        setAdded(true);
      }}
    >
      {added ? "Added ✓" : "Add to cart"}
    </button>
  );
}
