package compose

// maxIdle bounds the goroutines that wait for the next fetch.
const maxIdle = 256

// idle are goroutines that wait for a fetch to run. A fetch handed to one
// runs on a stack that has grown already, where a new goroutine would grow
// its stack again, at a cost that shows under load.
var idle = make(chan chan func(), maxIdle)

// run runs f on a goroutine of its own.
func run(f func()) {
	select {
	case w := <-idle:
		w <- f
	default:
		w := make(chan func())
		go work(w, f)
	}
}

// work runs f, then whatever run hands it while it is idle, until there
// are maxIdle idle goroutines besides it.
func work(w chan func(), f func()) {
	for {
		f()
		select {
		case idle <- w:
		default:
			return
		}
		f = <-w
	}
}
