// Package esbuild is the build.Bundler backed by esbuild's Go API. It is the
// only package that imports esbuild; no Node.js is needed to build.
package esbuild
