// Command collage builds, composes, hosts and ships micro-frontends.
//
//	collage new      start a project of your own
//	collage add      add a frontend and its BFF to a project
//	collage dev      build, serve and watch a project, with its BFFs
//	collage build    build every frontend into dist/
//	collage serve    serve the published frontends
//	collage pack     build one frontend into the archive of a release
//	collage publish  pack one frontend and upload it to a running shell
//	collage versions, promote, rollback, yank, history, token
//	                 drive the shell's publish API
//
// This binary links no BFF: a project's own main package links its BFFs
// into the same command through package cli, and collage dev runs that
// package for them.
package main

import "github.com/collage-dev/collage/cli"

func main() { cli.Run(nil) }
