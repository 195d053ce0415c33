// Command bootstrap runs the cart BFF: as an AWS Lambda function (collage
// build packages it as the bootstrap of the provided.al2023 runtime), or as
// a local HTTP server on $PORT when it is not inside Lambda.
//
// Its carts are in the Redis that COLLAGE_REDIS_URL names
// (redis://[user:password@]host[:port][/db], or rediss:// for TLS), so
// that every instance shares them; without it, each instance keeps its
// own in memory, and says so when it starts.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/redis"
	"github.com/collage-dev/collage/bff"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
)

// envRedisURL names the Redis the BFF keeps its state in; collage build's
// template sets it from its RedisURL parameter.
const envRedisURL = "COLLAGE_REDIS_URL"

func main() { os.Exit(run(os.Environ(), os.Stderr)) }

func run(environ []string, stderr io.Writer) int {
	states, closeStates, err := stateStore(environ, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bff cart: %v\n", err)
		return 1
	}
	defer closeStates()
	return lambda.Main(bff.Factory(cart.New).WithState(states), environ)
}

// stateStore returns the state store of the Redis that environ's
// COLLAGE_REDIS_URL names, and what closes it; without one, a store in
// memory, after a warning on stderr.
func stateStore(environ []string, stderr io.Writer) (bff.StateStore, func(), error) {
	var url string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, envRedisURL+"="); ok {
			url = v
		}
	}
	if url == "" {
		fmt.Fprintf(stderr, "bff cart: %s is not set, so carts are kept in this instance's memory: "+
			"they are not shared with other instances and end with this one\n", envRedisURL)
		return bff.NewMemState(), func() {}, nil
	}
	rdb, err := redis.Open(url)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", envRedisURL, err)
	}
	return redis.NewState(rdb, ""), func() { rdb.Close() }, nil
}
