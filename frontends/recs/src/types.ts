/** A product, as the recs BFF returns it. */
export interface Product {
  id: string;
  name: string;
  priceText: string;
}

/** GET /recs: a titled list of recommended products. */
export interface Recs {
  title: string;
  products: Product[];
}

/** Detail of the cart:add event. */
export interface CartAdd {
  productId: string;
  qty: number;
}
