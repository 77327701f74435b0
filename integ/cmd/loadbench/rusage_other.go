//go:build !unix

package main

// selfCPU returns 0: getrusage is a unix call.
func selfCPU() float64 { return 0 }

// selfMaxRSSKB returns 0: getrusage is a unix call.
func selfMaxRSSKB() int64 { return 0 }
