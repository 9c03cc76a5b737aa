// Package ceiling measures, for benchmarks, how fast this machine does a piece of
// work on every core: the ceiling each benchmark's figure is reported beside.
package ceiling

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Run runs op on every core for about d and returns how many times it ran and
// how long that took.
func Run(d time.Duration, op func()) (ops int64, took time.Duration) {
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for time.Now().Before(deadline) {
				for range 16 {
					op()
				}
				n += 16
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	return total.Load(), time.Since(start)
}

// Rate runs op on every core for about d and returns operations per second.
func Rate(d time.Duration, op func()) float64 {
	ops, took := Run(d, op)
	return float64(ops) / took.Seconds()
}
