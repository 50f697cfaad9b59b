package launcher

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lmsshop/checkout/internal/cfn"
)

// taskRoot is where Lambda unpacks a function's package (LAMBDA_TASK_ROOT).
const taskRoot = "/var/task/"

// zoneInfo is the file the functions' ZONEINFO names, as it is on this machine. The
// binaries do not embed Go's time zone database: `make build` and `sam build` package the
// toolchain's zoneinfo.zip beside each bootstrap, and the template points ZONEINFO at
// it under /var/task, which here is the same file in the toolchain's GOROOT. Every
// function runs in this one process and the time package reads ZONEINFO once per
// process, so the functions must agree on it. An empty answer: no function sets it.
func zoneInfo(fns []cfn.Function, goroot func() (string, error)) (string, error) {
	var name, from string
	for _, f := range fns {
		v, ok := f.Env["ZONEINFO"]
		if !ok {
			continue
		}
		if from != "" && v != name {
			return "", fmt.Errorf("launcher: ZONEINFO is %q for %s but %q for %s: the functions share one process here, so they must share one zone database", name, from, v, f.LogicalID)
		}
		name, from = v, f.LogicalID
	}
	if name == "" || !strings.HasPrefix(name, taskRoot) {
		return name, nil
	}
	if rel := strings.TrimPrefix(name, taskRoot); rel != "zoneinfo.zip" {
		return "", fmt.Errorf("launcher: ZONEINFO %q (%s): the build packages only %szoneinfo.zip", name, from, taskRoot)
	}
	root, err := goroot()
	if err != nil {
		return "", fmt.Errorf("launcher: ZONEINFO %q (%s): find the toolchain's zoneinfo.zip: %w", name, from, err)
	}
	return filepath.Join(root, "lib", "time", "zoneinfo.zip"), nil
}

// goEnvGOROOT asks the go tool (the one that builds the functions) for its GOROOT.
func goEnvGOROOT() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// useZoneInfo points this process's time package at the functions' zone database,
// before any function loads a zone.
func useZoneInfo(fns []cfn.Function) error {
	file, err := zoneInfo(fns, goEnvGOROOT)
	if err != nil || file == "" {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("launcher: the functions' ZONEINFO: %w", err)
	}
	return os.Setenv("ZONEINFO", file)
}
