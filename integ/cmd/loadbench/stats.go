package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// summarize returns the quantiles of ms (milliseconds); ms is sorted in place.
func summarize(ms []float64) quantiles {
	if len(ms) == 0 {
		return quantiles{}
	}
	slices.Sort(ms)
	return quantiles{
		N:   len(ms),
		P50: quantile(ms, 0.50),
		P90: quantile(ms, 0.90),
		P99: quantile(ms, 0.99),
		Max: ms[len(ms)-1],
	}
}

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// millis converts d to float milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtMs formats milliseconds for a table: "-" for no sample, whole numbers from 100 ms.
func fmtMs(v float64, n int) string {
	switch {
	case n == 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtCounts formats a map of counts as "k=v, ..." by descending count ("-" when empty).
func fmtCounts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// addCounts adds the counts of from to into.
func addCounts(into, from map[string]int) {
	for k, v := range from {
		into[k] += v
	}
}

// fmtRate formats a per-second rate compactly.
func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 1:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r), "0"), ".")
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", r), "0"), ".")
}

// fmtMiB formats a size in MiB.
func fmtMiB(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
