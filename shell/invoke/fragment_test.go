package invoke_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/invoke"
)

func fetch(t *testing.T, inv invoke.Invoker, ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, error) {
	t.Helper()
	ff, ok := inv.(invoke.FragmentFetcher)
	if !ok {
		t.Fatal("the invoker does not fetch fragments itself")
	}
	ans, ok, err := ff.FetchFragment(ctx, call)
	if !ok {
		t.Fatal("FetchFragment reports no fragment path")
	}
	return ans, err
}

func TestRequestAndAnswer(t *testing.T) {
	t.Parallel()
	var seen *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		w.Header().Set("Location", "/elsewhere")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "<p>moved</p>")
	}))
	t.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL+"/team/", invoke.HTTPOptions{MaxFragmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := fetch(t, inv, context.Background(), &bff.FragmentCall{Path: "/p?q=1", Params: "id=7", Slot: "main",
		Header: http.Header{"Cookie": {"s=1"}, "Accept-Language": {"fr"}}})
	if err != nil {
		t.Fatal(err)
	}
	if seen.URL.Path != "/team/_fragment" || seen.Method != http.MethodGet {
		t.Errorf("request: %s %s", seen.Method, seen.URL.Path)
	}
	for k, want := range map[string]string{"Collage-Path": "/p?q=1", "Collage-Params": "id=7", "Collage-Slot": "main",
		"Cookie": "s=1", "Accept-Language": "fr", "User-Agent": ""} {
		if got := seen.Header.Get(k); got != want {
			t.Errorf("request %s = %q, want %q", k, got, want)
		}
	}
	if ans.Status != http.StatusFound || string(ans.Body) != "<p>moved</p>" || ans.Header.Get("Location") != "/elsewhere" ||
		ans.Header.Get("Cache-Control") != "public, max-age=60" || strings.Join(ans.Header.Values("Set-Cookie"), "|") != "a=1; Path=/|b=2; Path=/" {
		t.Errorf("answer: %d %v %q", ans.Status, ans.Header, ans.Body)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Collage-Path") == "/slow" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.Write(make([]byte, 2048))
	}))
	t.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{MaxFragmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(t, inv, context.Background(), &bff.FragmentCall{Path: "/big"}); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Errorf("a 2 KiB fragment with a bound of 1 KiB: err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: "/slow"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a fragment past its deadline: err = %v, want a context.DeadlineExceeded", err)
	}
	srv.Close()
	if _, err := fetch(t, inv, context.Background(), &bff.FragmentCall{Path: "/"}); err == nil {
		t.Error("a fragment from a closed server: no error")
	}
}

// TestConcurrencyCap: at most MaxConnsPerHost fragment requests reach the
// upstream at once, the cap is reached, and the others wait for a
// connection, then succeed.
func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	const limit, fetches = 2, 6
	var mu sync.Mutex
	inFlight, most := 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		io.WriteString(w, "<p>ok</p>")
	}))
	t.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{MaxConnsPerHost: limit, MaxFragmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ff := inv.(invoke.FragmentFetcher)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, fetches)
	for range fetches {
		go func() {
			_, _, err := ff.FetchFragment(ctx, &bff.FragmentCall{Path: "/"})
			errs <- err
		}()
	}
	// The cap is reached, then held: those over it wait rather than reach
	// the upstream or fail. The wait only gives a third request time to
	// arrive; a slow machine can make the test miss a broken cap, never
	// fail a working one.
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return inFlight, most
	}
	for now, _ := counts(); now < limit; now, _ = counts() {
		select {
		case err := <-errs:
			t.Fatalf("a fetch ended before any was released: %v", err)
		case <-ctx.Done():
			t.Fatalf("%d of %d requests reached the upstream in 20s, want %d", now, fetches, limit)
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("a fetch over the cap ended instead of waiting: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if now, most := counts(); now != limit || most != limit {
		t.Errorf("%d requests at the upstream (at most %d), want the cap, %d", now, most, limit)
	}
	close(release)
	for range fetches {
		if err := <-errs; err != nil {
			t.Errorf("a fetch failed: %v", err)
		}
	}
	if _, most := counts(); most != limit {
		t.Errorf("%d requests reached the upstream at once, want the cap, %d", most, limit)
	}
}

// TestAnswerBodyHeldUntilRelease: an answer's body lives in a pooled
// buffer, so it must stay as it came while later fetches run, until the
// answer is released.
func TestAnswerBodyHeldUntilRelease(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<p>%s</p>", r.Header.Get("Collage-Path"))
	}))
	t.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{MaxFragmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: "/first"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Header.Get("Date") != "" || first.Header.Get("Content-Length") != "" {
		t.Errorf("the answer keeps its connection's headers: %v", first.Header)
	}
	for i := range 20 {
		ans, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: fmt.Sprintf("/later-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ans.Release()
	}
	if string(first.Body) != "<p>/first</p>" {
		t.Errorf("the first answer's body became %q before it was released", first.Body)
	}
	first.Release()
}

// TestStaleConnection: a BFF that closes each keep-alive connection after
// one answer, as an idle timeout does, still answers every fetch: a
// request on a connection closed while idle is sent again, once, on a new
// one. A new connection that fails is not retried.
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int32
	var answer atomic.Bool
	answer.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := accepted.Add(1)
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil || !answer.Load() {
					return
				}
				body := fmt.Sprintf("<p>%d</p>", n)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
		}
	}()
	inv, err := invoke.HTTP("http://"+ln.Addr().String(), invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		ans, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: "/"})
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		if want := fmt.Sprintf("<p>%d</p>", i); string(ans.Body) != want {
			t.Errorf("fetch %d: %q, want %s from a connection of its own", i, ans.Body, want)
		}
		ans.Release()
	}
	answer.Store(false)
	if _, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: "/"}); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("a new connection closed without an answer: err = %v, want an EOF", err)
	}
}

// TestCanceledFetch: a fetch whose context is canceled (its page ended
// early, its client left) stops at once, well before its deadline, and
// frees its connection for the next fetch.
func TestCanceledFetch(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Collage-Path") == "/hang" {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "<p>ok</p>")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{MaxConnsPerHost: 1, MaxFragmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// Without the cancellation, the fetch would end at this deadline, with
	// context.DeadlineExceeded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-arrived:
		case <-ctx.Done():
		}
		cancel()
	}()
	if _, err := fetch(t, inv, ctx, &bff.FragmentCall{Path: "/hang"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a fetch canceled while the BFF answers: err = %v, want context.Canceled", err)
	}
	next, cancelNext := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelNext()
	ans, err := fetch(t, inv, next, &bff.FragmentCall{Path: "/"})
	if err != nil || string(ans.Body) != "<p>ok</p>" {
		t.Fatalf("the next fetch, on the only connection allowed: %q, %v", ans.Body, err)
	}
	ans.Release()
}

// BenchmarkFragment: one 2 KB fragment from a net/http server on
// 127.0.0.1, through the fragment client and through net/http's Transport.
func BenchmarkFragment(b *testing.B) {
	page := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	b.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call := &bff.FragmentCall{Path: "/products/7", Params: "id=7", Header: http.Header{"Accept-Language": {"fr"}}}
	b.Run("client", func(b *testing.B) {
		ff := inv.(invoke.FragmentFetcher)
		b.ReportAllocs()
		for b.Loop() {
			ans, _, err := ff.FetchFragment(ctx, call)
			if err != nil || len(ans.Body) != len(page) {
				b.Fatal(err)
			}
			ans.Release()
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, bff.FragmentPath, nil)
			req.Header = call.Header.Clone()
			req.Header.Set(bff.HeaderPath, call.Path)
			req.Header.Set(bff.HeaderParams, call.Params)
			resp, err := inv.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(body) != len(page) {
				b.Fatal(err)
			}
		}
	})
}
