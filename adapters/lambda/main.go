package lambda

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/httpserve"
)

// The environment variables Main reads from the environment it is given.
const (
	// EnvRuntimeAPI is set by Lambda; when it is, Main serves events.
	EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
	// EnvPort is the port of the local HTTP server. Default: 9000.
	EnvPort = "PORT"
	// EnvHost is the interface of the local HTTP server. Default: 127.0.0.1.
	EnvHost = "HOST"
	// EnvBasePath is Options.BasePath. Default: none.
	EnvBasePath = "COLLAGE_BASE_PATH"
	// EnvInvokeMode is how Serve answers: RESPONSE_STREAM streams (a
	// Function URL whose InvokeMode is RESPONSE_STREAM), BUFFERED buffers.
	// Default: BUFFERED.
	EnvInvokeMode = "COLLAGE_INVOKE_MODE"
	// SettingPrefix starts the variables that hold the BFF's settings: the
	// setting delay is COLLAGE_SETTING_delay. collage build writes them
	// into the SAM template from collage.yaml.
	SettingPrefix = "COLLAGE_SETTING_"
)

// Main builds the BFF with f and serves it: inside Lambda when environ has
// AWS_LAMBDA_RUNTIME_API, otherwise as a local HTTP server on $HOST:$PORT
// until SIGINT or SIGTERM. It returns the process's exit code. environ is
// os.Environ(), passed by the main package, which is the edge that reads it.
func Main(f bff.Factory, environ []string) int {
	return run(context.Background(), f, environ, os.Stderr)
}

func run(ctx context.Context, f bff.Factory, environ []string, stderr io.Writer) int {
	env := envMap(environ)
	b, err := f(Settings(environ))
	if err != nil {
		fmt.Fprintf(stderr, "bff: %v\n", err)
		return 1
	}
	opts := Options{BasePath: env[EnvBasePath]}
	if env[EnvRuntimeAPI] != "" {
		Start(b, opts)
		return 0
	}
	host, port := env[EnvHost], env[EnvPort]
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "9000"
	}
	h := b.ServeHTTP
	if opts.BasePath != "" {
		h = func(w http.ResponseWriter, r *http.Request) {
			r.URL.Path = stripPrefix(r.URL.Path, opts.BasePath)
			r.URL.RawPath = ""
			b.ServeHTTP(w, r)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = httpserve.Serve(ctx, http.HandlerFunc(h), httpserve.Options{
		Addr: net.JoinHostPort(host, port),
		Listening: func(url string) {
			fmt.Fprintf(stderr, "bff %s: listening on %s\n", b.Name(), url)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "bff %s: %v\n", b.Name(), err)
		return 1
	}
	return 0
}

// Settings returns the BFF settings held in environ as SettingPrefix+key.
func Settings(environ []string) bff.Settings {
	s := bff.Settings{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if key, ok := strings.CutPrefix(k, SettingPrefix); ok && key != "" {
			s[key] = v
		}
	}
	return s
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// The values of EnvInvokeMode, named as a Function URL's InvokeMode.
const (
	InvokeModeBuffered = "BUFFERED"
	InvokeModeStream   = "RESPONSE_STREAM"
)

// Serve serves any http.Handler inside Lambda, through the Runtime API that
// environ's AWS_LAMBDA_RUNTIME_API names, in the invoke mode its
// COLLAGE_INVOKE_MODE names: streamed (see Stream), or buffered, which
// answers every event shape a Handler knows and never returns. It returns
// an error when environ is not Lambda's, or names an unknown mode.
func Serve(ctx context.Context, h http.Handler, opts Options, environ []string) error {
	env := envMap(environ)
	api := env[EnvRuntimeAPI]
	if api == "" {
		return fmt.Errorf("lambda: %s is not set: this runs inside Lambda, or under aws-lambda-rie", EnvRuntimeAPI)
	}
	switch mode := env[EnvInvokeMode]; mode {
	case InvokeModeStream:
		return Stream(ctx, api, h, opts)
	case "", InvokeModeBuffered:
		lambda.StartWithOptions(NewHandler(h, opts), lambda.WithContext(ctx))
		return nil
	default:
		return fmt.Errorf("lambda: %s=%q: want %s or %s", EnvInvokeMode, mode, InvokeModeStream, InvokeModeBuffered)
	}
}
