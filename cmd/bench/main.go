// Command bench runs full checkouts against the local cloud at rising concurrency and
// writes the report (docs/bench/report.md and report.json): latency per step, DynamoDB
// round trips and capacity, state transitions, binary sizes, cold starts and the cost
// per 1,000 orders. `make bench` runs it; everything stays on 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/lmsshop/checkout/internal/bench"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == bench.CPUChildFlag {
		// The CPU measurement's own process (internal/bench/cpu.go).
		if err := bench.CPUChildMain(os.Stdin, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "docs/bench", "directory for report.md and report.json (relative to the repository root)")
	quick := fs.Bool("quick", false, "fewer orders per level (for a smoke run)")
	build := fs.Bool("build", true, "run `make build` first, for the arm64 binary sizes")
	cold := fs.Bool("coldstart", true, "build the functions for this machine and time their cold starts")
	breakdown := fs.Bool("breakdown", false, "a short run (5 purchases at concurrency 1, no build, CPU or cold starts) that prints the write units per order by step, operation and item, and writes no report")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := launcher.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	if *breakdown {
		*build, *cold = false, false
	}
	if *build {
		fmt.Fprintln(stdout, "bench: make build")
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, io.Discard, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(stderr, "bench: make build:", err)
			return 1
		}
	}
	cfg := bench.DefaultConfig(root)
	cfg.ColdStarts = *cold
	if *quick {
		cfg.Orders = func(c int) int { return 2 * c }
	}
	if *breakdown {
		cfg.Levels, cfg.Orders, cfg.CPURounds, cfg.BinDir = []int{1}, func(int) int { return 5 }, 0, ""
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *breakdown {
		if err := bench.WriteBreakdown(stdout, rep.Costs); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "per order: %.2f write units from item sizes (DynamoDB Local: %.2f), %.1f DynamoDB calls\n",
			rep.PerOrder.ModelWriteUnits, rep.PerOrder.WriteUnits, rep.PerOrder.DynamoDBCalls)
		return 0
	}
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if err := write(dir, rep); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "bench: done in %s; %s/report.md and report.json\n", time.Since(start).Round(time.Second), dir)
	failed := 0
	for _, t := range rep.Targets {
		mark := "ok  "
		if !t.Met {
			mark, failed = "MISS", failed+1
		}
		fmt.Fprintf(stdout, "  %s %-45s %-28s %s\n", mark, t.Name, t.Target, t.Measured)
	}
	for _, l := range rep.Levels {
		if l.Completed != l.Orders {
			fmt.Fprintf(stderr, "bench: %d of %d orders failed at concurrency %d\n", l.Orders-l.Completed, l.Orders, l.Concurrency)
			return 1
		}
	}
	return 0
}

func write(dir string, rep *bench.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	if err := bench.WriteMarkdown(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
