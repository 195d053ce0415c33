package shell

import (
	"crypto/rand"
	"encoding/hex"
)

// maxIDLen bounds a request id a client may choose.
const maxIDLen = 64

// wellFormedID reports whether a client's request id may be kept: short,
// and of letters, digits, '.', '_' and '-' only, so that it is safe in a log
// line and a header.
func wellFormedID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID is 128 random bits in hex: ids a client cannot guess or
// collide with on purpose.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	var s [32]byte // encoded here, so that only the string is allocated
	hex.Encode(s[:], b[:])
	return string(s[:])
}
