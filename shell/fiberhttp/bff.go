package fiberhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/gofiber/fiber/v2"
)

// bffTimeout bounds one /bff call.
const bffTimeout = 30 * time.Second

// passed are the request headers a /bff call carries besides shell.Forwarded.
var passed = shell.BFFForwarded

// bffHandler sends /bff/NAME/REST to NAME's BFF as REST, with NAME's
// credentials alone, and its response back unchanged but for the cookies
// NAME may not set.
func bffHandler(sh *shell.Shell) fiber.Handler {
	return func(c *fiber.Ctx) error {
		inv, ok := sh.Invoker(c.Params("name"))
		if !ok {
			return fiber.NewError(fiber.StatusNotFound, "no frontend called "+c.Params("name"))
		}
		// Fiber's params are the path as sent, still percent-encoded; the
		// BFF gets it decoded, with the encoded form kept (a%2Fb is one
		// segment).
		raw := "/" + c.Params("*")
		rest, err := url.PathUnescape(raw)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "malformed path")
		}
		if path.Clean(rest) != rest && path.Clean(rest)+"/" != rest {
			// No dot segments: a call stays inside its BFF's namespace.
			return fiber.NewError(fiber.StatusBadRequest, "the path may not hold . or .. segments")
		}
		u := &url.URL{Path: rest, RawQuery: string(c.Request().URI().QueryString())}
		if u.EscapedPath() != raw {
			u.RawPath = raw
		}
		ctx, cancel := context.WithTimeout(context.Background(), bffTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, c.Method(), u.String(), bytes.NewReader(bytes.Clone(c.Body())))
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "malformed path")
		}
		req.URL = u
		req.ContentLength = int64(len(c.Body()))
		req.Header = copyCredentials(c, sh, forwarded(c, requestID(c)))
		for _, k := range passed {
			if v := c.Request().Header.Peek(k); len(v) > 0 {
				req.Header.Set(k, string(v))
			}
		}
		sh.ScopeCall(c.Params("name"), req.Header)
		req.RemoteAddr = c.Context().RemoteAddr().String()
		resp, err := inv.RoundTrip(req)
		if err != nil {
			sh.Log().Warn("bff call failed", "request_id", requestID(c), "bff", c.Params("name"), "path", rest, "err", err)
			return fiber.NewError(fiber.StatusBadGateway, "the "+c.Params("name")+" BFF did not answer")
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fiber.NewError(fiber.StatusBadGateway, "the "+c.Params("name")+" BFF's answer was cut short")
		}
		c.Status(resp.StatusCode)
		for k, vs := range resp.Header {
			if hopByHop[k] {
				continue
			}
			if k == "Set-Cookie" {
				vs = sh.SetCookies(c.Params("name"), requestID(c), vs)
			}
			for _, v := range vs {
				c.Response().Header.Add(k, v)
			}
		}
		return c.Send(body)
	}
}

// copyCredentials adds to h the request's headers that carry a credential
// some frontend declares; the shell leaves each BFF only its own.
func copyCredentials(c *fiber.Ctx, sh *shell.Shell, h http.Header) http.Header {
	for _, k := range sh.Credentials() {
		if v := c.Request().Header.Peek(k); len(v) > 0 {
			h[k] = []string{string(v)}
		}
	}
	return h
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}
