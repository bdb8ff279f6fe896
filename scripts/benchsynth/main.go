// Command benchsynth measures one synth of the app for fixture estates: wall
// and CPU time (app and node), jsii requests by kind, node->Go callbacks, and
// the app's own phases (config, plan, constructs, synth, checks). It prints
// numbers; it asserts nothing. Run it through scripts/bench-synth.sh.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/acme/genai-estate/internal/fixture"
)

func main() {
	app := flag.String("app", "", "the built app binary")
	root := flag.String("root", ".", "the repository root (cdk.json)")
	estates := flag.String("estates", "20x40,50x400", "accounts x use cases, comma-separated")
	debug := flag.Bool("count", true, "also run once with JSII_DEBUG=1 to count jsii requests")
	tsApp := flag.String("ts", "", "also run this JavaScript app (ts-app.js) on the same estates and compare its model-account templates")
	nodePath := flag.String("node-path", "", "NODE_PATH for -ts: node_modules with aws-cdk-lib, constructs and cdk-nag")
	dumpTo := flag.String("dump", "", "only write the planned model-account stacks of -config as JSON to this file (ts-app.js reads it) and exit")
	dumpConfig := flag.String("config", "", "the config -dump reads")
	runs := flag.Int("runs", 1, "run each app this many times, alternating Go and JS, and print the medians (and the wall range)")
	flag.Parse()
	if *dumpTo != "" {
		if err := writeDump(*dumpConfig, *dumpTo); err != nil {
			fatal(err)
		}
		return
	}
	if *app == "" {
		fmt.Fprintln(os.Stderr, "benchsynth: -app is required")
		os.Exit(2)
	}
	flags := featureFlags(*root)
	var summary []string
	defer func() {
		if len(summary) > 0 {
			fmt.Println("\n| estate | wall s (Go / JS) | CPU s (Go / JS) | constructs CPU s (Go / JS) | node peak RSS MiB (Go / JS) |")
			fmt.Println("|---|---|---|---|---|")
			fmt.Println(strings.Join(summary, "\n"))
		}
	}()
	fmt.Printf("machine: %d cores (%s)\n", cpus(), firstLine("/proc/cpuinfo", "model name"))
	for _, spec := range strings.Split(*estates, ",") {
		var accounts, useCases int
		if _, err := fmt.Sscanf(spec, "%dx%d", &accounts, &useCases); err != nil {
			fatal(fmt.Errorf("estate %q: want <accounts>x<useCases>", spec))
		}
		dir, err := os.MkdirTemp("", "benchsynth")
		if err != nil {
			fatal(err)
		}
		cfg := filepath.Join(dir, "estate.yaml")
		if err := os.WriteFile(cfg, fixture.Large(accounts, useCases), 0o644); err != nil {
			fatal(err)
		}
		goApp := command{args: []string{*app}}
		var ts command
		if *tsApp != "" {
			dump := filepath.Join(dir, "estate.json")
			if err := writeDump(cfg, dump); err != nil {
				fatal(err)
			}
			ts = command{args: []string{"node", *tsApp}, env: []string{"NODE_PATH=" + *nodePath}, context: map[string]any{"estate": dump}, self: true}
		}
		// Go and JS alternate, so a change in the machine's load reaches both.
		var goRuns, tsRuns []result
		same, diffs := 0, []string(nil)
		for i := 0; i < max(1, *runs); i++ {
			goRuns = append(goRuns, run(goApp, *root, dir, cfg, flags, false))
			if *tsApp == "" {
				continue
			}
			goOut := filepath.Join(dir, "cdk.out.go")
			os.RemoveAll(goOut)
			if err := os.Rename(filepath.Join(dir, "cdk.out"), goOut); err != nil {
				fatal(err)
			}
			tsRuns = append(tsRuns, run(ts, *root, dir, cfg, flags, false))
			if i == 0 {
				same, diffs = compareAssemblies(goOut, filepath.Join(dir, "cdk.out"))
			}
		}
		r := median(goRuns)
		fmt.Printf("\nestate %d accounts x %d use cases: %d stacks, %d resources, largest template %d bytes\n",
			accounts, useCases, r.stacks, r.resources, r.largest)
		r.print("Go app", goRuns)
		if *debug {
			d := run(goApp, *root, dir, cfg, flags, true)
			var kinds []string
			total := 0
			for k, n := range d.requests {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
				if k != "load" {
					total += n
				}
			}
			sort.Strings(kinds)
			fmt.Printf("  jsii requests %d (%s), node->Go callbacks %d\n", total, strings.Join(kinds, ", "), d.callbacks)
		}
		if *tsApp != "" {
			t := median(tsRuns)
			fmt.Printf("  JavaScript app (same runtime as TypeScript): %d stacks, %d resources\n", t.stacks, t.resources)
			t.print("JS app", tsRuns)
			fmt.Printf("  model-account templates: %d equal to the Go app's (CDK's analytics resource and aws:cdk:path metadata aside), %d differ\n", same, len(diffs))
			for _, d := range diffs[:min(len(diffs), 5)] {
				fmt.Printf("    %s\n", d)
			}
			summary = append(summary, fmt.Sprintf("| %dx%d | %.1f / %.1f | %.1f / %.1f | %.2f / %.2f | %d / %d |", accounts, useCases,
				r.wall.Seconds(), t.wall.Seconds(), (r.user+r.sys).Seconds(), (t.user+t.sys).Seconds(),
				r.phase("constructs").Seconds(), t.phase("constructs").Seconds(), r.maxRSS>>20, t.maxRSS>>20))
		}
		os.RemoveAll(dir)
	}
}

type phase struct {
	name   string
	d, cpu time.Duration
}

type result struct {
	wall, user, sys            time.Duration
	maxRSS                     int64
	exit                       int
	phases                     []phase
	requests                   map[string]int
	callbacks                  int
	stacks, resources, largest int
}

var (
	request  = regexp.MustCompile(`^> \{"api":"([a-z]+)"`)
	callback = regexp.MustCompile(`^< \{"callback":`)
	phaseRE  = regexp.MustCompile(`^genai-estate phase (\S+) ([0-9.]+)s$`)
)

// command is an app to run: its arguments, more environment and context, and
// whether the process itself is node (the JavaScript app) rather than a
// parent of node (the Go app, through the jsii runtime).
type command struct {
	args    []string
	env     []string
	context map[string]any
	self    bool
}

// print writes the run's times, one line per phase.
func (r result) print(name string, runs []result) {
	of := ""
	if len(runs) > 1 {
		lo, hi := runs[0].wall, runs[0].wall
		for _, x := range runs {
			lo, hi = min(lo, x.wall), max(hi, x.wall)
		}
		of = fmt.Sprintf(" (medians of %d runs; wall %.1f–%.1f s)", len(runs), lo.Seconds(), hi.Seconds())
	}
	fmt.Printf("  %s: wall %.1f s, CPU %.1f s (user %.1f, sys %.1f; app and node), node peak RSS %d MiB, exit %d%s\n",
		name, r.wall.Seconds(), (r.user + r.sys).Seconds(), r.user.Seconds(), r.sys.Seconds(), r.maxRSS>>20, r.exit, of)
	for _, p := range r.phases {
		fmt.Printf("  phase %-10s %7.2f s wall %7.2f s CPU\n", p.name, p.d.Seconds(), p.cpu.Seconds())
	}
}

// median is runs' median of each figure (each on its own, so the figures
// of one line may come from different runs); counts are the first run's,
// and the exit code the worst.
func median(runs []result) result {
	r := runs[0]
	mid := func(f func(result) time.Duration) time.Duration {
		v := make([]time.Duration, len(runs))
		for i, x := range runs {
			v[i] = f(x)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	r.wall = mid(func(x result) time.Duration { return x.wall })
	r.user = mid(func(x result) time.Duration { return x.user })
	r.sys = mid(func(x result) time.Duration { return x.sys })
	r.maxRSS = int64(mid(func(x result) time.Duration { return time.Duration(x.maxRSS) }))
	r.phases = slices.Clone(r.phases)
	for i := range r.phases {
		at := func(x result) phase {
			if i < len(x.phases) {
				return x.phases[i]
			}
			return phase{}
		}
		r.phases[i].d = mid(func(x result) time.Duration { return at(x).d })
		r.phases[i].cpu = mid(func(x result) time.Duration { return at(x).cpu })
	}
	for _, x := range runs {
		r.exit = max(r.exit, x.exit)
	}
	return r
}

// phase is the CPU time of the named phase.
func (r result) phase(name string) time.Duration {
	for _, p := range r.phases {
		if p.name == name {
			return p.cpu
		}
	}
	return 0
}

// run runs the app as `cdk synth` would: the CLI's context (feature flags,
// path metadata, version reporting) in CDK_CONTEXT_JSON and an output dir.
func run(app command, root, dir, cfg string, flags map[string]any, debug bool) result {
	out := filepath.Join(dir, "cdk.out")
	os.RemoveAll(out)
	ctx := map[string]any{"config": cfg, "aws:cdk:enable-path-metadata": true, "aws:cdk:enable-asset-metadata": true, "aws:cdk:version-reporting": true, "aws:cdk:disable-stack-trace": true, "aws:cdk:bundling-stacks": []string{"**"}}
	for k, v := range flags {
		ctx[k] = v
	}
	for k, v := range app.context {
		ctx[k] = v
	}
	b, _ := json.Marshal(ctx)
	cmd := exec.Command(app.args[0], app.args[1:]...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(b), "GENAI_PHASES=1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	cmd.Env = append(cmd.Env, app.env...)
	if debug {
		cmd.Env = append(cmd.Env, "JSII_DEBUG=1")
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr.txt"))
	if err != nil {
		fatal(err)
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		fatal(err)
	}
	cmd.Stdout = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	// At each phase line, the CPU used so far by the app and node.
	var cpuAt []time.Duration
	copied := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		for sc.Scan() {
			if phaseRE.MatchString(sc.Text()) {
				cpuAt = append(cpuAt, treeCPU(cmd.Process.Pid))
			}
			stderr.WriteString(sc.Text() + "\n")
		}
		close(copied)
	}()
	peak := make(chan int64)
	stop := make(chan struct{})
	go watchRSS(cmd.Process.Pid, app.self, stop, peak)
	<-copied
	err = cmd.Wait()
	r := result{wall: time.Since(start), requests: map[string]int{}}
	close(stop)
	r.maxRSS = <-peak
	stderr.Close()
	if ps := cmd.ProcessState; ps != nil {
		r.user, r.sys, r.exit = ps.UserTime(), ps.SystemTime(), ps.ExitCode()
	}
	f, _ := os.Open(filepath.Join(dir, "stderr.txt"))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var tail []string
	for sc.Scan() {
		line := sc.Text()
		if m := request.FindStringSubmatch(line); m != nil {
			r.requests[m[1]]++
		} else if callback.MatchString(line) {
			r.callbacks++
		} else if m := phaseRE.FindStringSubmatch(line); m != nil {
			s, _ := strconv.ParseFloat(m[2], 64)
			p := phase{name: m[1], d: time.Duration(s * float64(time.Second))}
			if i := len(r.phases); i < len(cpuAt) {
				p.cpu = cpuAt[i]
				if i > 0 {
					p.cpu -= cpuAt[i-1]
				}
			}
			r.phases = append(r.phases, p)
		} else if !debug {
			tail = append(tail, line)
		}
	}
	f.Close()
	if err != nil && !debug {
		fmt.Fprintf(os.Stderr, "app failed: %v\n%s\n", err, strings.Join(tail[max(0, len(tail)-20):], "\n"))
	}
	r.stacks, r.resources, r.largest = assembly(out)
	return r
}

// watchRSS samples the resident set of the app's node processes (its
// descendants: the jsii runtime starts node under a wrapper; and the process
// itself when self, a node app) every 100 ms.
func watchRSS(pid int, self bool, stop chan struct{}, peak chan int64) {
	var top int64
	for {
		select {
		case <-stop:
			peak <- top
			return
		case <-time.After(100 * time.Millisecond):
		}
		procs := descendants(pid)
		if self {
			procs = append(procs, pid)
		}
		for _, d := range procs {
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", d))
			for _, line := range strings.Split(string(status), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					top = max(top, kb<<10)
				}
			}
		}
	}
}

// treeCPU is the user and system time of a process and its descendants so far.
func treeCPU(pid int) time.Duration {
	var ticks int64
	for _, p := range append([]int{pid}, descendants(pid)...) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		// Fields after the command name, which is in parentheses.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				s, _ := strconv.ParseInt(f[12], 10, 64)
				ticks += u + s
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

func descendants(pid int) []int {
	var out []int
	// Any thread of a Go process may have started the child.
	var kids []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		kids = append(kids, strings.Fields(string(b))...)
	}
	for _, k := range kids {
		if c, err := strconv.Atoi(k); err == nil {
			out = append(out, c)
			out = append(out, descendants(c)...)
		}
	}
	return out
}

func assembly(dir string) (stacks, resources, largest int) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var t struct {
			Resources map[string]json.RawMessage
		}
		if json.Unmarshal(b, &t) == nil {
			stacks++
			resources += len(t.Resources)
			largest = max(largest, len(b))
		}
	}
	return
}

func featureFlags(root string) map[string]any {
	b, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		fatal(err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		fatal(err)
	}
	return f.Context
}

func cpus() int { return runtime.NumCPU() }

func firstLine(path, key string) string {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchsynth:", err)
	os.Exit(1)
}
