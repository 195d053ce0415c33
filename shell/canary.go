package shell

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"net/http"

	"github.com/collage-dev/collage/shell/registry"
)

// BucketCookie keeps a browser on its side of every canary: a random
// value the shell sets on the first page it serves while a canary runs.
// It is the shell's own, and reaches no BFF.
const BucketCookie = "collage_bucket"

// bucketLen is the length of a bucket: 16 random bytes in hex.
const bucketLen = 32

// InCanary reports whether the browser of bucket is among the users canary
// c of frontend takes: a stable hash of the three, from 0 to 99, under
// c.Percent. Every replica decides alike, raising the share keeps everyone
// it took, and each canary draws its own users.
func InCanary(bucket, frontend string, c registry.Canary) bool {
	h := sha256.Sum256([]byte(bucket + "\x00" + frontend + "\x00" + c.Label))
	return binary.BigEndian.Uint64(h[:8])%100 < uint64(c.Percent)
}

// versionsFor returns the versions a page is rendered with for bucket:
// snap's, with each canary's version where it takes bucket.
func versionsFor(snap *registry.Snapshot, bucket string) map[string]string {
	var out map[string]string
	for name, c := range snap.Canaries {
		if InCanary(bucket, name, c) {
			if out == nil {
				out = maps.Clone(snap.Versions)
			}
			out[name] = c.Label
		}
	}
	if out == nil {
		return snap.Versions
	}
	return out
}

// bucketOf returns the browser's bucket, from its Cookie header, or a new
// one and the Set-Cookie that gives it.
func bucketOf(req Request) (bucket, setCookie string) {
	if v := cookie(req, BucketCookie); validBucket(v) {
		return v, ""
	}
	var b [bucketLen / 2]byte
	rand.Read(b[:]) // never fails
	c := &http.Cookie{Name: BucketCookie, Value: hex.EncodeToString(b[:]), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: req.Scheme() == "https"}
	return c.Value, c.String()
}

func validBucket(v string) bool {
	if len(v) != bucketLen {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}
