// Package quickjs renders frontends' components with modernc.org/quickjs,
// a JavaScript engine in pure Go (no cgo): a fixed pool of VMs per server
// bundle, each loaded from bytecode compiled once, a deadline per render,
// errors with the component's source-mapped stack.
//
// A VM is not safe for concurrent use, so each render takes one VM from
// the pool and gives it back; renders beyond the pool's size wait for one.
// A render the deadline stops leaves the VM wherever the interrupt found
// it, inside the component's or Preact's state, so that VM is replaced by
// a fresh one from the bytecode; a component that throws lets Preact clean
// up, and its VM serves the next render.
package quickjs
