// Package recs is the BFF of the demo shop's recommendations: a few products
// to show beside the one being looked at.
//
// Its delay setting makes it deliberately slow, to show a slot's deadline
// and fallback at work.
package recs
