package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// procKey identifies a process across pid reuse.
type procKey struct {
	pid   int
	start uint64 // starttime, field 22 of /proc/<pid>/stat
}

// procInfo is what the sampler knows of one descendant process.
type procInfo struct {
	category string
	cpu      float64 // CPU seconds at the last sample
	hwmKB    int64   // VmHWM at the last sample
	alive    bool
}

// procSampler follows the CPU time of this process's descendants (DynamoDB Local, the
// functions' processes, the client process), grouped by category, by sampling /proc
// (schedstat, else utime+stime). A process that exits keeps the CPU time of its last sample,
// so the sampler samples periodically and at every snapshot.
type procSampler struct {
	self     int
	classify func(pid int, comm, cmdline string) string

	mu    sync.Mutex
	procs map[procKey]*procInfo
	stop  chan struct{}
	done  chan struct{}
}

// cpuSnap is a point in time: cumulative CPU seconds of this process (getrusage self), of
// its descendants by category, and of the whole machine (busy, from /proc/stat).
type cpuSnap struct {
	at         time.Time
	self       float64
	byCategory map[string]float64
	machine    float64
}

// newProcSampler starts sampling every interval until Close.
func newProcSampler(interval time.Duration, classify func(pid int, comm, cmdline string) string) *procSampler {
	s := &procSampler{
		self:     os.Getpid(),
		classify: classify,
		procs:    map[procKey]*procInfo{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// Close stops the sampling.
func (s *procSampler) Close() {
	close(s.stop)
	<-s.done
}

// statLine is the part of /proc/<pid>/stat the sampler reads.
type statLine struct {
	pid, ppid int
	comm      string
	ticks     int64
	start     uint64
}

// readStat parses /proc/<pid>/stat.
func readStat(pid int) (statLine, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return statLine{}, err
	}
	open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return statLine{}, fmt.Errorf("/proc/%d/stat: no comm", pid)
	}
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 20 {
		return statLine{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return statLine{pid: pid, ppid: ppid, comm: string(b[open+1 : closing]), ticks: utime + stime, start: start}, nil
}

// sample reads every descendant's CPU time.
func (s *procSampler) sample() {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	all := map[int]statLine{}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		all[pid] = st
		children[st.ppid] = append(children[st.ppid], pid)
	}
	var desc []int
	queue := []int{s.self}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			desc = append(desc, c)
			queue = append(queue, c)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, info := range s.procs {
		info.alive = false
	}
	for _, pid := range desc {
		st := all[pid]
		key := procKey{pid, st.start}
		info := s.procs[key]
		if info == nil {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
			info = &procInfo{category: s.classify(pid, st.comm, string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))}
			s.procs[key] = info
		}
		info.cpu = max(float64(st.ticks)/clockTicks, schedRuntime(pid))
		info.alive = true
		if hwm := vmHWM(pid); hwm > 0 {
			info.hwmKB = hwm
		}
	}
}

// schedRuntime returns the CPU seconds a process's live threads have run, to the nanosecond:
// the sum of the first field of /proc/<pid>/task/<tid>/schedstat. utime+stime of
// /proc/<pid>/stat count in 10 ms ticks, too coarse for handlers that spend a fraction of a
// millisecond per invocation; they do count exited threads, so the sampler keeps the larger.
func schedRuntime(pid int) float64 {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var ns int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f, _, _ := strings.Cut(string(b), " ")
		n, _ := strconv.ParseInt(f, 10, 64)
		ns += n
	}
	return float64(ns) / 1e9
}

// vmHWM returns a process's peak resident set in kB, or 0.
func vmHWM(pid int) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// snapshot samples now and returns the cumulative CPU times.
func (s *procSampler) snapshot() cpuSnap {
	s.sample()
	snap := cpuSnap{at: time.Now(), self: selfCPU(), byCategory: map[string]float64{}, machine: machineBusy()}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, info := range s.procs {
		snap.byCategory[info.category] += info.cpu
	}
	return snap
}

// peakRSS returns the largest VmHWM seen per category, in kB.
func (s *procSampler) peakRSS() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, info := range s.procs {
		out[info.category] = max(out[info.category], info.hwmKB)
	}
	return out
}

// alive returns the descendants alive at the last sample, by category.
func (s *procSampler) alive() map[string][]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]int{}
	for key, info := range s.procs {
		if info.alive {
			out[info.category] = append(out[info.category], key.pid)
		}
	}
	return out
}

// machineBusy returns the machine's busy CPU seconds since boot (all but idle and iowait).
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		busy += n
	}
	return float64(busy) / clockTicks
}

// cpuDelta is the CPU used between two snapshots.
type cpuDelta struct {
	wall       time.Duration
	self       float64
	byCategory map[string]float64
	machine    float64
}

// delta returns b − a.
func delta(a, b cpuSnap) cpuDelta {
	d := cpuDelta{wall: b.at.Sub(a.at), self: b.self - a.self, byCategory: map[string]float64{}, machine: b.machine - a.machine}
	for k, v := range b.byCategory {
		if x := v - a.byCategory[k]; x > 0.0001 {
			d.byCategory[k] = x
		}
	}
	return d
}

// cores returns CPU seconds per wall second.
func (d cpuDelta) cores(seconds float64) float64 {
	if d.wall <= 0 {
		return 0
	}
	return seconds / d.wall.Seconds()
}
