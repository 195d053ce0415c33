package compose

// maxIdle bounds the goroutines that wait for the next fetch.
const maxIdle = 256

// idle are goroutines that wait for a fetch to run. A fetch handed to one
// runs on a stack that has grown already, where a new goroutine would grow
// its stack again, at a cost that shows under load.
var idle = make(chan chan *slot, maxIdle)

// run fetches st on a goroutine of its own.
func run(st *slot) {
	select {
	case w := <-idle:
		w <- st
	default:
		w := make(chan *slot)
		go work(w, st)
	}
}

// work fetches st, then whatever run hands it while it is idle, until
// there are maxIdle idle goroutines besides it.
func work(w chan *slot, st *slot) {
	for {
		st.fetch()
		select {
		case idle <- w:
		default:
			return
		}
		st = <-w
	}
}
