package fasthttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/fasthttp"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/tests/parity"
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

// TestSameAsNetHTTP: each fragment case of the parity table, served by the
// parity BFF on a real socket, answers the same through fasthttp as through
// net/http.
func TestSameAsNetHTTP(t *testing.T) {
	t.Parallel()
	b, err := parity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	fast, err := fasthttp.New(srv.URL, invoke.HTTPOptions{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := parity.FragmentCases()
	for _, c := range cases {
		resp, err := slow.RoundTrip(c.Request(ctx))
		if err != nil {
			t.Fatal(err)
		}
		want, err := parity.Read(resp)
		if err != nil {
			t.Fatal(err)
		}
		ans, err := fetch(t, fast, ctx, c.FragmentCall())
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got, err := parity.ReadAnswer(ans)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fasthttp answers\n%+v\nnet/http answers\n%+v", c.Name, got, want)
		}
	}
	if len(cases) < 5 {
		t.Errorf("the table has %d fragment cases", len(cases))
	}
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
	inv, err := fasthttp.New(srv.URL+"/team/", invoke.HTTPOptions{}, 1<<20)
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
	inv, err := fasthttp.New(srv.URL, invoke.HTTPOptions{}, 1024)
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

func TestOtherCallsGoThroughNetHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body))
	}))
	t.Cleanup(srv.Close)
	inv, err := fasthttp.New(srv.URL, invoke.HTTPOptions{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader("pen"))
	req.RequestURI = ""
	resp, err := inv.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "POST /items pen" {
		t.Errorf("body = %q", b)
	}
	if _, err := fasthttp.New("ftp://x", invoke.HTTPOptions{}, 1); err == nil {
		t.Error("an ftp:// BFF is accepted")
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
	inv, err := fasthttp.New(srv.URL, invoke.HTTPOptions{MaxConnsPerHost: limit}, 1<<20)
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
// response, so it must stay as it came while later fetches run, until the
// answer is released.
func TestAnswerBodyHeldUntilRelease(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<p>%s</p>", r.Header.Get("Collage-Path"))
	}))
	t.Cleanup(srv.Close)
	inv, err := fasthttp.New(srv.URL, invoke.HTTPOptions{}, 1<<20)
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
