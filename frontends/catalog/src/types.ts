/** A product, as the catalog BFF returns it. */
export interface Product {
  id: string;
  name: string;
  description: string;
  /** In cents. */
  price: number;
  priceText: string;
  category: string;
  categoryName: string;
}

/** GET /products: a page of the product grid. */
export interface Listing {
  title: string;
  products: Product[];
}

/** A BFF error: the status and the message from its JSON body. */
export interface Failure {
  status: number;
  message: string;
}

/** Detail of the cart:add event. */
export interface CartAdd {
  productId: string;
  qty: number;
}

/**
 * The data of the catalog's fragment, which View renders: a listing, one
 * product, or the BFF's error.
 */
export interface Fragment {
  listing?: Listing;
  product?: Product;
  error?: Failure;
}
