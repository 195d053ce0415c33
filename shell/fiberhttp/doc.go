// Package fiberhttp is the shell's HTTP edge on fiber v2: pages, assets,
// /bff/NAME/* calls and health. It is the only package that imports fiber;
// it copies what the shell needs out of each request, since a fiber.Ctx is
// reused after its handler returns, and maps errors to statuses.
package fiberhttp
