package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

// The redis benchmark: redis-server runs bare and inside each sandbox, all
// at once on their own loopback ports; redis-benchmark runs on the host
// against each in turn (rotated every repetition), a bounded number of
// SET and GET requests. The sandlock server may bind only its port
// (net_bind), read the system trees and write its own directory.

type redisRow struct {
	System  string `json:"system"`
	Desc    string `json:"desc"`
	Port    int    `json:"port,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	// Per test ("SET", "GET"): requests per second and p99 latency (ms),
	// one value per repetition, and their medians.
	RPS         map[string][]float64 `json:"rps,omitempty"`
	P99         map[string][]float64 `json:"p99_ms,omitempty"`
	MedianRPS   map[string]float64   `json:"median_rps,omitempty"`
	MedianP99   map[string]float64   `json:"median_p99_ms,omitempty"`
	RatioToBare map[string]float64   `json:"rps_vs_bare,omitempty"`
	// ServerPid is redis-server's pid (a grandchild under bwrap and
	// firejail). CPUUs is its CPU time (user + system, all threads) per
	// request over a whole run (SET and GET); HostCPUUs is this process's
	// over the same run, where sandlock's supervisor runs. CPU time is far
	// less disturbed than throughput by other load on the machine.
	ServerPid      int       `json:"server_pid,omitempty"`
	CPUUs          []float64 `json:"server_cpu_us_per_request,omitempty"`
	MedianCPUUs    float64   `json:"median_server_cpu_us_per_request,omitempty"`
	CPURatio       *float64  `json:"server_cpu_vs_bare,omitempty"`
	HostCPUUs      []float64 `json:"host_cpu_us_per_request,omitempty"`
	MedianHostCPUs float64   `json:"median_host_cpu_us_per_request,omitempty"`
}

type redisReport struct {
	meta
	Requests int            `json:"requests"`
	Clients  int            `json:"clients"`
	Reps     int            `json:"reps"`
	Server   string         `json:"server_version,omitempty"`
	Rows     []*redisRow    `json:"rows"`
	Skipped  string         `json:"skipped,omitempty"`
	Targets  []targetResult `json:"targets,omitempty"`
	ElapsedS float64        `json:"elapsed_s"`
}

var redisTests = []string{"SET", "GET"}

// redisServer is one running server.
type redisServer struct {
	row  *redisRow
	stop func()
}

func redisMain(args []string) {
	fs := flag.NewFlagSet("redis", flag.ExitOnError)
	n := fs.Int("n", 100000, "requests per test and run")
	clients := fs.Int("c", 50, "parallel connections of redis-benchmark")
	reps := fs.Int("reps", 3, "runs against every server (interleaved)")
	out := fs.String("json", "tests/bench/results/redis.json", "JSON output")
	fs.Parse(args)

	rep := &redisReport{meta: newMeta(), Requests: *n, Clients: *clients}
	server, err1 := exec.LookPath("redis-server")
	bench, err2 := exec.LookPath("redis-benchmark")
	if err1 != nil || err2 != nil {
		rep.Skipped = "skipped: redis-server or redis-benchmark not installed (make bench installs them as root: apt-get install -y redis-server redis-tools)"
		fmt.Println("redis benchmark " + rep.Skipped)
		writeJSON(*out, rep)
		return
	}
	if b, err := exec.Command(server, "--version").Output(); err == nil {
		rep.Server = strings.TrimSpace(string(b))
	}
	tmp, err := os.MkdirTemp("", "sandlock-bench-redis-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)

	var servers []*redisServer
	stopAll := func() {
		for _, s := range servers {
			if s.stop != nil {
				s.stop()
			}
		}
	}
	defer stopAll()
	for _, sys := range []string{"bare", "sandlock", "bwrap", "firejail"} {
		s := startRedis(sys, server, tmp)
		rep.Rows = append(rep.Rows, s.row)
		servers = append(servers, s)
	}

	var active []*redisServer
	for _, s := range servers {
		if s.row.Skipped == "" && s.row.Error == "" {
			active = append(active, s)
		}
	}
	fmt.Printf("redis benchmark: %s; %d x (%d SET + %d GET, %d clients) against %d servers, interleaved\n",
		rep.Server, *reps, *n, *n, *clients, len(active))
	start := time.Now()
	for r := 0; r < *reps; r++ {
		for i := range active {
			s := active[(r+i)%len(active)]
			if s.row.Error != "" {
				continue
			}
			srv0, err1 := procCPU(s.row.ServerPid)
			self0 := selfCPU()
			res, err := runRedisBenchmark(bench, s.row.Port, *n, *clients)
			if err != nil {
				s.row.Error = err.Error()
				continue
			}
			self1 := selfCPU()
			srv1, err2 := procCPU(s.row.ServerPid)
			if err1 == nil && err2 == nil {
				reqs := float64(len(redisTests) * *n)
				s.row.CPUUs = append(s.row.CPUUs, round(float64(srv1-srv0)/float64(time.Microsecond)/reqs, 2))
				s.row.HostCPUUs = append(s.row.HostCPUUs, round(float64(self1-self0)/float64(time.Microsecond)/reqs, 2))
			}
			for _, t := range redisTests {
				s.row.RPS[t] = append(s.row.RPS[t], res[t][0])
				s.row.P99[t] = append(s.row.P99[t], res[t][1])
			}
		}
	}
	rep.Reps = *reps
	rep.ElapsedS = round(time.Since(start).Seconds(), 1)
	stopAll()
	servers = nil

	var bare *redisRow
	for _, r := range rep.Rows {
		if len(r.RPS) == 0 {
			continue
		}
		r.MedianRPS, r.MedianP99 = map[string]float64{}, map[string]float64{}
		for _, t := range redisTests {
			if len(r.RPS[t]) > 0 {
				r.MedianRPS[t] = round(median(r.RPS[t]), 0)
				r.MedianP99[t] = round(median(r.P99[t]), 3)
			}
		}
		r.MedianCPUUs = round(median(r.CPUUs), 2)
		r.MedianHostCPUs = round(median(r.HostCPUUs), 2)
		if r.System == "bare" {
			bare = r
		}
	}
	if bare != nil {
		for _, r := range rep.Rows {
			if r.MedianRPS == nil || r == bare {
				continue
			}
			if bare.MedianCPUUs > 0 && r.MedianCPUUs > 0 {
				q := round(r.MedianCPUUs/bare.MedianCPUUs, 3)
				r.CPURatio = &q
			}
			r.RatioToBare = map[string]float64{}
			for _, t := range redisTests {
				r.RatioToBare[t] = round(pairedRatio(r.RPS[t], bare.RPS[t]), 3)
			}
			if r.System == "sandlock" {
				for _, t := range redisTests {
					q := r.RatioToBare[t]
					rep.Targets = append(rep.Targets, targetResult{
						Name: "redis " + t + " throughput in sandlock vs bare", Value: round(100*q, 1), Limit: 97, Unit: "%", Pass: q >= 0.97,
						Note: fmt.Sprintf("%.0f vs %.0f req/s", r.MedianRPS[t], bare.MedianRPS[t]),
					})
				}
			}
		}
	}
	printRedis(rep)
	writeJSON(*out, rep)
	for _, r := range rep.Rows {
		if r.Error != "" {
			os.Exit(1)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startRedis starts one server under sys and waits until it answers PING.
func startRedis(sys, server, tmp string) *redisServer {
	row := &redisRow{System: sys, RPS: map[string][]float64{}, P99: map[string][]float64{}}
	s := &redisServer{row: row}
	port, err := freePort()
	if err != nil {
		row.Error = err.Error()
		return s
	}
	row.Port = port
	dir, err := os.MkdirTemp(tmp, sys+"-")
	if err != nil {
		row.Error = err.Error()
		return s
	}
	argv := []string{server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--daemonize", "no", "--dir", dir, "--logfile", ""}
	view := append(systemDirs(), "/dev/urandom")

	startExec := func(full []string) {
		c := exec.Command(full[0], full[1:]...)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		// Its own process group, signalled as a whole: bwrap and firejail
		// run redis as a child of their own, which must not outlive them
		// (and which would keep stderr open, so Wait bounds that too).
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.WaitDelay = 2 * time.Second
		if err := c.Start(); err != nil {
			row.Error = err.Error()
			return
		}
		exited := make(chan struct{})
		go func() { c.Wait(); close(exited) }()
		pgid := c.Process.Pid
		s.stop = func() {
			syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				syscall.Kill(-pgid, syscall.SIGKILL)
				<-exited
			}
			syscall.Kill(-pgid, syscall.SIGKILL) // anything left behind
		}
		if err := waitRedis(port, exited); err != nil {
			row.Error = fmt.Sprintf("%v: %s", err, oneLine(stderr.String()))
		}
	}

	switch sys {
	case "bare":
		row.Desc = "redis-server on the host"
		startExec(argv)
	case "sandlock":
		row.Desc = "Go API sandbox.Spawn: net_bind the port, read the system trees, write its directory"
		p := basePolicy("/dev/urandom")
		p.FsWritable = []string{dir}
		p.NetBind = []uint16{uint16(port)}
		sb, err := sandbox.Spawn(p, argv, sandbox.Options{Stdout: sandbox.Null(), Stderr: sandbox.Capture(), OutputLimit: 1 << 16})
		if err != nil {
			row.Error = err.Error()
			return s
		}
		s.stop = func() {
			sb.Kill()
			sb.Wait()
		}
		if err := waitRedis(port, sb.Done()); err != nil {
			_, stderr := sb.Output()
			row.Error = fmt.Sprintf("%v: %s", err, oneLine(string(stderr)))
		}
	case "bwrap":
		bw, err := exec.LookPath("bwrap")
		if err != nil {
			row.Skipped = missingNote("bwrap", "bubblewrap")
			return s
		}
		row.Desc = "bubblewrap: read-only binds of the same trees, its directory bound writable, host network"
		full := append([]string{bw, "--die-with-parent"}, bwrapArgs(view)...)
		full = append(full, "--bind", dir, dir)
		startExec(append(full, argv...))
	case "firejail":
		fj, err := exec.LookPath("firejail")
		if err != nil {
			row.Skipped = missingNote("firejail", "firejail")
			return s
		}
		row.Desc = "firejail " + strings.Join(firejailArgs, " ") + " --read-write=DIR, host network"
		full := append(append([]string{fj}, firejailArgs...), "--read-write="+dir)
		startExec(append(full, argv...))
	}
	if row.Error == "" && row.Skipped == "" {
		row.ServerPid = findRedisPid(port)
		if row.ServerPid > 0 && pinned() {
			pinTasks(row.ServerPid, serverCPU)
		}
	}
	return s
}

// With two CPUs or more every server runs on serverCPU and redis-benchmark
// on clientCPU: left to the scheduler, the client and a server share a
// CPU in some runs and not in others, and that, not the sandbox, decided
// the throughput (49-116% of bare across runs before pinning).
const (
	clientCPU = 0
	serverCPU = 1
)

func pinned() bool { return runtime.NumCPU() >= 2 }

// pinTasks sets the affinity of every thread of pid to cpu (best effort:
// a thread that exits meanwhile is skipped).
func pinTasks(pid, cpu int) {
	var set unix.CPUSet
	set.Set(cpu)
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return
	}
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			unix.SchedSetaffinity(tid, &set)
		}
	}
}

// findRedisPid finds the redis-server serving port: it rewrites its
// command line to "redis-server 127.0.0.1:PORT".
func findRedisPid(port int) int {
	es, _ := os.ReadDir("/proc")
	suffix := fmt.Sprintf(":%d", port)
	for _, e := range es {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if strings.Contains(cmd, "redis-server") && strings.HasSuffix(cmd, suffix) {
			return pid
		}
	}
	return 0
}

// procCPU is the user + system time of process pid, all its threads.
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad stat")
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// selfCPU is this process's user + system time.
func selfCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitRedis waits until the server on port answers PING, or exited is
// closed, or 10 s pass.
func waitRedis(port int, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited")
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			_, err = c.Write([]byte("PING\r\n"))
			if err == nil {
				line, rerr := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if rerr == nil && strings.HasPrefix(line, "+PONG") {
					return nil
				}
			} else {
				c.Close()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("redis-server did not answer PING within 10 s")
}

// runRedisBenchmark returns, per test, {requests per second, p99 ms}.
func runRedisBenchmark(bench string, port, n, clients int) (map[string][2]float64, error) {
	argv := []string{bench, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "set,get",
		"-n", strconv.Itoa(n), "-c", strconv.Itoa(clients), "--csv"}
	if ts, err := exec.LookPath("taskset"); err == nil && pinned() {
		argv = append([]string{ts, "-c", strconv.Itoa(clientCPU)}, argv...)
	}
	c := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %v: %s", err, oneLine(stderr.String()))
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 2 {
		return nil, fmt.Errorf("redis-benchmark: unreadable output %q", oneLine(string(out)))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	ri, ok1 := col["rps"]
	pi, ok2 := col["p99_latency_ms"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("redis-benchmark: no rps or p99_latency_ms column in %q", strings.Join(recs[0], ","))
	}
	res := map[string][2]float64{}
	for _, r := range recs[1:] {
		if len(r) <= max(ri, pi) {
			continue
		}
		rps, err1 := strconv.ParseFloat(r[ri], 64)
		p99, err2 := strconv.ParseFloat(r[pi], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("redis-benchmark: bad line %q", strings.Join(r, ","))
		}
		res[r[0]] = [2]float64{rps, p99}
	}
	for _, t := range redisTests {
		if _, ok := res[t]; !ok {
			return nil, fmt.Errorf("redis-benchmark: no %s result", t)
		}
	}
	return res, nil
}

func printRedis(rep *redisReport) {
	fmt.Printf("%d runs in %.1f s\n\n", rep.Reps, rep.ElapsedS)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tSET req/s\tvs bare\tSET p99 ms\tGET req/s\tvs bare\tGET p99 ms\tserver CPU µs/req\tvs bare\thost CPU µs/req\t")
	for _, r := range rep.Rows {
		if r.MedianRPS == nil {
			continue
		}
		vs := func(t string) string {
			if q, ok := r.RatioToBare[t]; ok {
				return fmt.Sprintf("%.1f%%", 100*q)
			}
			return "-"
		}
		cpu := "-"
		if r.CPURatio != nil {
			cpu = fmt.Sprintf("%.2fx", *r.CPURatio)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.3f\t%.0f\t%s\t%.3f\t%.2f\t%s\t%.2f\t\n", r.System,
			r.MedianRPS["SET"], vs("SET"), r.MedianP99["SET"], r.MedianRPS["GET"], vs("GET"), r.MedianP99["GET"],
			r.MedianCPUUs, cpu, r.MedianHostCPUs)
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Skipped != "" {
			fmt.Printf("%s: %s\n", r.System, r.Skipped)
		}
		if r.Error != "" {
			fmt.Printf("%s: %s\n", r.System, r.Error)
		}
	}
	printTargets(rep.Targets)
}

// pairedRatio is the median over repetitions of a[i]/b[i]: each system is
// compared with the bare run of the same repetition, minutes apart at
// most, so a drift of the machine between repetitions cancels out. With
// unequal lengths (a run failed) it falls back to the ratio of medians.
func pairedRatio(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) != len(b) {
		if m := median(b); m > 0 {
			return median(a) / m
		}
		return 0
	}
	q := make([]float64, 0, len(a))
	for i := range a {
		if b[i] > 0 {
			q = append(q, a[i]/b[i])
		}
	}
	if len(q) == 0 {
		return 0
	}
	return median(q)
}
