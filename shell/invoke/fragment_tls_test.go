package invoke

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

// TestFragmentsOverTLS: an https:// BFF's fragments come over TLS, with
// the server's name checked against its certificate.
func TestFragmentsOverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<p>" + r.TLS.ServerName + r.URL.Path + "</p>"))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/team")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "example.com:" + u.Port() // the test certificate's name
	f := newFragments(u, HTTPOptions{MaxConnsPerHost: 2, MaxFragmentBytes: 1 << 10})
	f.addr = srv.Listener.Addr().String() // dialed there, not resolved
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	f.tls.RootCAs = roots
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 { // the second on the pooled connection
		ans, err := f.fetch(ctx, &bff.FragmentCall{Path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if string(ans.Body) != "<p>example.com/team/_fragment</p>" {
			t.Errorf("body %q", ans.Body)
		}
		ans.Release()
	}
	f.tls.RootCAs = x509.NewCertPool()
	f.idle = nil
	if _, err := f.fetch(ctx, &bff.FragmentCall{Path: "/"}); err == nil {
		t.Error("a certificate no root signed is accepted")
	}
}
