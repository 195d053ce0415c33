package compose

import "testing"

// TestIdleLastTakenFirst: a task goes to the goroutine idle last, whose
// stack is likeliest to be grown still.
func TestIdleLastTakenFirst(t *testing.T) {
	first, last := make(chan task, 1), make(chan task, 1)
	idle.Lock()
	saved := idle.tasks
	idle.tasks = []chan task{first, last}
	idle.Unlock()
	defer func() {
		idle.Lock()
		idle.tasks = saved
		idle.Unlock()
	}()
	st := &slot{render: &Render{}}
	run(task{slot: st})
	select {
	case got := <-last:
		if got.slot != st {
			t.Fatalf("the goroutine idle last got %+v, want the task run gave", got)
		}
	case <-first:
		t.Fatal("the task went to the goroutine idle first")
	default:
		t.Fatal("no idle goroutine got the task")
	}
	idle.Lock()
	defer idle.Unlock()
	if len(idle.tasks) != 1 || idle.tasks[0] != first {
		t.Errorf("idle after run: %d goroutines, want the one idle first left", len(idle.tasks))
	}
}
