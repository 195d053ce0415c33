/** One line of the cart, as the cart BFF returns it. */
export interface Item {
  productId: string;
  name: string;
  /** In cents. */
  price: number;
  priceText: string;
  qty: number;
  lineTotal: number;
  lineTotalText: string;
}

/** GET /cart, POST /items and DELETE /items/{productId} all answer a Cart. */
export interface Cart {
  items: Item[];
  count: number;
  total: number;
  totalText: string;
}

/** Detail of the cart:add event. */
export interface CartAdd {
  productId: string;
  qty: number;
}

/** Detail of the cart:changed event. */
export interface CartChanged {
  count: number;
}
