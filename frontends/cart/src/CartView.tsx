import type { Cart } from "./types";

export interface CartViewProps {
  /** null until the cart has loaded. */
  cart: Cart | null;
  /** What went wrong with the last change, for people. */
  error: string | null;
  onRemove: (productId: string) => void;
}

/** The cart panel; the same markup as frontends/cart/bff/templates/cart.html. */
export function CartView({ cart, error, onRemove }: CartViewProps) {
  return (
    <section class="cart" id="cart" aria-label="Cart">
      <h2 class="cart-title">
        Your cart <span class="cart-count">{cart?.count ?? 0}</span>
      </h2>
      {error && (
        <p class="cart-error" role="alert">
          {error}
        </p>
      )}
      {cart && cart.items.length > 0 ? (
        <>
          <ul class="cart-items">
            {cart.items.map((item) => (
              <li class="cart-item" key={item.productId}>
                <span class={`cart-thumb product-art product-art-${item.productId}`} aria-hidden="true"></span>
                <div class="cart-item-main">
                  <a class="cart-item-name" href={`/products/${item.productId}`}>
                    {item.name}
                  </a>
                  <span class="cart-item-meta">{`${item.qty} × ${item.priceText}`}</span>
                </div>
                <span class="cart-item-total">{item.lineTotalText}</span>
                <button
                  type="button"
                  class="cart-remove"
                  aria-label={`Remove ${item.name} from cart`}
                  onClick={() => onRemove(item.productId)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
          <p class="cart-total">
            <span>Total</span>
            <strong>{cart.totalText}</strong>
          </p>
        </>
      ) : (
        cart && <p class="cart-empty">Your cart is empty. Add something you like.</p>
      )}
    </section>
  );
}
