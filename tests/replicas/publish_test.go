package replicas

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/collage-dev/collage/internal/testbin"
)

// TestConcurrentPublishes: two replicas each take an upload of another
// version of recs at the same moment (1 MiB of files each, so that the
// two overlap), three times over. Every upload is created, both replicas
// list every version, and each version, once promoted, is served whole
// by both: every file of it, byte for byte, including by the replica
// that did not take its upload and reads it from Redis.
func TestConcurrentPublishes(t *testing.T) {
	r := startRedis(t, false)
	// --source-maps: every file of a version is served, its maps too.
	a, b := start(t, "A", r.url(), "--source-maps"), start(t, "B", r.url(), "--source-maps")
	replicas := []*server{a, b}
	var published []*testbin.Release
	for round := range 3 {
		rs := []*testbin.Release{
			demo.NewRelease(t, fmt.Sprintf("a%d", round), 8, 128<<10),
			demo.NewRelease(t, fmt.Sprintf("b%d", round), 8, 128<<10),
		}
		archives := [][]byte{rs[0].Archive(t), rs[1].Archive(t)}
		type answer struct {
			status int
			body   []byte
			err    error
		}
		answers := make([]chan answer, 2)
		begin := make(chan struct{})
		for i, s := range replicas {
			answers[i] = make(chan answer, 1)
			req, err := http.NewRequest(http.MethodPost, s.URL+"/_collage/api/frontends/recs/versions", bytes.NewReader(archives[i]))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/gzip")
			go func() {
				<-begin
				resp, err := client.Do(req)
				var a answer
				if err == nil {
					var buf bytes.Buffer
					_, err = buf.ReadFrom(resp.Body)
					resp.Body.Close()
					a.status, a.body = resp.StatusCode, buf.Bytes()
				}
				a.err = err
				answers[i] <- a
			}()
		}
		close(begin)
		for i, s := range replicas {
			got := <-answers[i]
			if got.err != nil || got.status != http.StatusCreated {
				t.Fatalf("round %d: publishing recs %s through %s alongside the other: %v %d %s", round, rs[i].Label, s.name, got.err, got.status, got.body)
			}
		}
		published = append(published, rs...)
	}
	for _, s := range replicas {
		list := s.must(t, "versions", "recs", "--json")
		for _, rel := range published {
			if !bytes.Contains([]byte(list), []byte(`"`+rel.Label+`"`)) {
				t.Errorf("replica %s does not list recs %s:\n%s", s.name, rel.Label, list)
			}
		}
	}
	for i, rel := range published {
		replicas[(i+1)%2].promote(t, rel.Label) // through the replica that did not take it
		for _, s := range replicas {
			await(t, 4*poll, "replica "+s.name+" serving recs "+rel.Label, func() bool { return s.recs(t, "") == rel.Label })
			for name, data := range rel.Files {
				resp, body := s.get(t, "/assets/recs/"+rel.Label+"/"+name, "")
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
					t.Errorf("replica %s: GET /assets/recs/%s/%s: %d, %d bytes; want 200 and the %d bytes published", s.name, rel.Label, name, resp.StatusCode, len(body), len(data))
				}
			}
		}
	}
}
