// Package exepages gives back the pages of the running executable that
// starting the process touched and serving will not use again.
//
// A Go binary runs every linked package's init before main, and on Linux
// the kernel maps the cached pages around each one it faults in (64 KB
// runs), so an executable that links much more than its serving path
// starts with most of its code and tables resident: pages counted in its
// resident set for as long as it runs. Release unmaps them from the
// process. They stay in the page cache, clean and shared, and a page that
// is used again comes back with a minor fault; the resident set is then
// the pages the process uses, not the ones it once touched.
package exepages
