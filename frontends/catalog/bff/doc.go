// Package catalog is the BFF of the demo shop's catalog: the product grid on
// the home page, optionally filtered by category, and the product page.
package catalog
