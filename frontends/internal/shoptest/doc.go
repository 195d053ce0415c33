// Package shoptest holds test helpers shared by the demo shop's BFFs:
// fragment requests as the shell sends them, JSON calls, and golden files.
package shoptest
