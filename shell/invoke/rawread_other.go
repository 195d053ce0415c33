//go:build !linux && !darwin && !freebsd

package invoke

import (
	"errors"
	"net"
	"syscall"
)

// rawConn is nil here: a connection is lent its reader before it waits
// for an answer, and readFD is not called.
func rawConn(net.Conn) syscall.RawConn { return nil }

func readFD(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
