//go:build linux || darwin || freebsd

package invoke

import (
	"io"
	"net"
	"syscall"
)

// rawConn is nc's raw socket, whose answers fragConn.peek waits for
// without a buffer; nil if nc is not a TCP connection (TLS).
func rawConn(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// readFD reads from the non-blocking socket fd: what it holds, an end of
// stream as io.EOF, or syscall.EAGAIN if a read would block.
func readFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
