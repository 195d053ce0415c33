// Package bbolt is the embedded registry store: every release, the active
// version of each frontend, the history and the publish API's tokens, in
// one bbolt file under the shell's data folder. Each change is one bbolt
// transaction, which also increments the revision, so a crash leaves the
// change whole or absent.
package bbolt
