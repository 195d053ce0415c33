package shopdata

import (
	"fmt"
	"slices"
)

// Product is one thing the shop sells.
type Product struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Price        int    `json:"price"`        // in cents
	PriceText    string `json:"priceText"`    // Price formatted for people, "$12.50"
	Category     string `json:"category"`     // a Categories slug
	CategoryName string `json:"categoryName"` // the category's name for people
	Color        string `json:"color"`        // "#rrggbb", the background of the product's picture
}

// Category is a group of products the shop can be filtered by.
type Category struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Categories lists the shop's categories in the order the header shows them.
var Categories = []Category{
	{Slug: "coffee", Name: "Coffee"},
	{Slug: "kitchen", Name: "Kitchen"},
	{Slug: "desk", Name: "Desk"},
}

var products = []Product{
	{ID: "1", Name: "House Blend Beans", Description: "Chocolatey medium roast, 500 g, roasted this week.", Price: 1450, Category: "coffee", Color: "#c8a27a"},
	{ID: "2", Name: "Ethiopia Yirgacheffe", Description: "Bright and floral light roast with notes of bergamot.", Price: 1875, Category: "coffee", Color: "#e9c46a"},
	{ID: "3", Name: "Cold Brew Kit", Description: "A 1 l jar, a reusable filter and a bag of coarse grind.", Price: 3200, Category: "coffee", Color: "#8ecae6"},
	{ID: "4", Name: "Pour-Over Kettle", Description: "Gooseneck kettle with a built-in thermometer.", Price: 4900, Category: "kitchen", Color: "#adb5bd"},
	{ID: "5", Name: "Ceramic Mug", Description: "Hand-glazed stoneware, 350 ml, dishwasher safe.", Price: 1250, Category: "kitchen", Color: "#f4a261"},
	{ID: "6", Name: "Burr Grinder", Description: "Forty grind settings, from espresso to French press.", Price: 8900, Category: "kitchen", Color: "#6c757d"},
	{ID: "7", Name: "Oat Cookies", Description: "A tin of twelve, baked with brown butter and sea salt.", Price: 850, Category: "kitchen", Color: "#ddb892"},
	{ID: "8", Name: "Linen Notebook", Description: "A5, dotted pages, lies flat when open.", Price: 1600, Category: "desk", Color: "#95d5b2"},
	{ID: "9", Name: "Desk Plant", Description: "A small pothos in a recycled pot. Hard to kill.", Price: 2200, Category: "desk", Color: "#74c69d"},
	{ID: "10", Name: "Brass Pen", Description: "Solid brass, refillable, gets a patina with use.", Price: 3800, Category: "desk", Color: "#f6bd60"},
	{ID: "11", Name: "Espresso Cups", Description: "A pair of double-walled glasses that keep the crema hot.", Price: 2400, Category: "kitchen", Color: "#cdb4db"},
	{ID: "12", Name: "Desk Lamp", Description: "Warm, dimmable light on a weighted, swivelling arm.", Price: 5600, Category: "desk", Color: "#ffd166"},
}

func init() {
	for i := range products {
		products[i].PriceText = FormatPrice(products[i].Price)
		c, _ := CategoryBySlug(products[i].Category)
		products[i].CategoryName = c.Name
	}
}

// Products returns every product in catalogue order. The slice is a copy.
func Products() []Product { return slices.Clone(products) }

// InCategory returns the products of the category with slug, in catalogue
// order; an empty slug means every product.
func InCategory(slug string) []Product {
	if slug == "" {
		return Products()
	}
	var out []Product
	for _, p := range products {
		if p.Category == slug {
			out = append(out, p)
		}
	}
	return out
}

// ProductByID returns the product with id.
func ProductByID(id string) (Product, bool) {
	i := slices.IndexFunc(products, func(p Product) bool { return p.ID == id })
	if i < 0 {
		return Product{}, false
	}
	return products[i], true
}

// CategoryBySlug returns the category with slug.
func CategoryBySlug(slug string) (Category, bool) {
	i := slices.IndexFunc(Categories, func(c Category) bool { return c.Slug == slug })
	if i < 0 {
		return Category{}, false
	}
	return Categories[i], true
}

// FormatPrice formats cents as dollars for people: 1250 → "$12.50",
// 123456 → "$1,234.56", -500 → "-$5.00".
func FormatPrice(cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	dollars := fmt.Sprint(cents / 100)
	for i := len(dollars) - 3; i > 0; i -= 3 {
		dollars = dollars[:i] + "," + dollars[i:]
	}
	return fmt.Sprintf("%s$%s.%02d", sign, dollars, cents%100)
}
