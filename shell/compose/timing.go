package compose

import (
	"errors"
	"strconv"
	"time"
)

// ServerTiming describes the slots resolved so far, as a Server-Timing
// header: every slot when called after WritePrefix has written the whole
// page.
func (r *Render) ServerTiming() string {
	var buf [256]byte // on the stack for a page of a few slots: the string is the one copy
	b := buf[:0]
	for i, s := range r.layout.Slots {
		if !r.ready(i) {
			continue
		}
		res := r.result(i)
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "slot-"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '-')
		b = append(b, s.Frontend...)
		b = append(b, `;desc="`...)
		b = append(b, res.Outcome...)
		if res.Err != nil {
			var le *LocationError
			if errors.As(res.Err, &le) {
				b = append(b, ": redirect refused"...)
			}
		}
		b = append(b, `";dur=`...)
		b = appendMillis(b, res.Took)
	}
	if len(b) == 0 {
		b = appendMillis(append(b, "compose;dur="...), time.Since(r.start))
	}
	return string(b)
}

// appendMillis appends d in milliseconds with one decimal, as Server-Timing
// gives durations.
func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 1, 64)
}
