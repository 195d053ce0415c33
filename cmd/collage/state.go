package main

import "github.com/collage-dev/collage/bff"

// localState keeps the state of the BFFs linked into this process (bff:
// local), in memory: the versions of a frontend share it under the
// frontend's name, and it ends with the process.
var localState bff.StateStore = bff.NewMemState()
