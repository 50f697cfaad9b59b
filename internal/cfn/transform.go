package cfn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TransformError is the SAM transform's refusal of a template, worded by the translator.
type TransformError struct {
	Template string
	Message  string
}

func (e *TransformError) Error() string {
	return "cfn: the SAM transform refuses " + e.Template + ": " + e.Message
}

// Transform runs the SAM transform (tools/samtransform.py with the repository's
// .venv) on samTemplate and returns the path of the transformed template. The output
// is cached under repoRoot/.cache/samtransform, keyed by the hash of the template and
// of the transform script, so a second start with the same template is quick.
func Transform(ctx context.Context, repoRoot, samTemplate string) (string, error) {
	repoRoot, err := filepath.Abs(repoRoot)
	if err != nil {
		return "", fmt.Errorf("cfn: %w", err)
	}
	if samTemplate, err = filepath.Abs(samTemplate); err != nil {
		return "", fmt.Errorf("cfn: %w", err)
	}
	src, err := os.ReadFile(samTemplate)
	if err != nil {
		return "", fmt.Errorf("cfn: %w", err)
	}
	script := filepath.Join(repoRoot, "tools", "samtransform.py")
	code, err := os.ReadFile(script)
	if err != nil {
		return "", fmt.Errorf("cfn: the SAM transform script: %w", err)
	}
	reqs, _ := os.ReadFile(filepath.Join(repoRoot, "tools", "requirements.txt")) // the translator's pin
	h := sha256.New()
	for _, b := range [][]byte{src, code, reqs} {
		fmt.Fprintf(h, "%d\n", len(b))
		h.Write(b)
	}
	dir := filepath.Join(repoRoot, ".cache", "samtransform")
	out := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))[:32]+".json")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cfn: transform cache: %w", err)
	}
	python := filepath.Join(repoRoot, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return "", fmt.Errorf("cfn: the SAM transform needs %s: run `make deps`", python)
	}
	tmp, err := os.CreateTemp(dir, "partial-*.json")
	if err != nil {
		return "", fmt.Errorf("cfn: transform cache: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, python, script, "--template", samTemplate, "--out", tmp.Name())
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil || msg == "" {
			return "", fmt.Errorf("cfn: run the SAM transform: %w %s", err, msg)
		}
		// The script's first line names the file; the causes follow as "  - …".
		var causes []string
		for _, l := range strings.Split(msg, "\n") {
			if c, ok := strings.CutPrefix(strings.TrimSpace(l), "- "); ok {
				causes = append(causes, c)
			}
		}
		if len(causes) == 0 {
			causes = []string{msg}
		}
		return "", &TransformError{Template: samTemplate, Message: strings.Join(causes, "; ")}
	}
	// Rename is atomic: two local clouds starting at once never read half a file.
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("cfn: transform cache: %w", err)
	}
	return out, nil
}
