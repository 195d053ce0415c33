// Package shopdata is the demo shop's product catalogue, shared by the BFFs
// of the demo frontends. It is static data: a real shop would ask a
// product service instead.
package shopdata
