package launcher

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Run is `make run`: it parses args, starts the local cloud, prints its URLs and a
// final "ready" line on stdout, and stops everything when ctx ends (Ctrl-C). It
// returns the process exit code; failures are one clear line on stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := DefaultPorts()
	var (
		repo   = fs.String("repo", "", "repository root holding template.yaml (default: found from the working directory)")
		offset = fs.Int("ports-offset", 0, "add this to every default port, to run beside another local cloud")
		api    = fs.Int("api-port", def.API, "API Gateway emulation port")
		ddb    = fs.Int("dynamodb-port", def.DynamoDB, "DynamoDB Local port")
		ses    = fs.Int("ses-port", def.SES, "SES emulator (mail viewer) port")
		sfn    = fs.Int("sfn-port", def.StepFunctions, "Step Functions engine port")
		web    = fs.Int("web-port", def.Web, "storefront port")
		idp    = fs.Int("cognito-port", def.Cognito, "Cognito emulator (operators' sign-in) port")
		noSeed = fs.Bool("no-seed", false, "leave the table empty (no demo shop and catalog)")
		debug  = fs.Bool("debug", false, "log every request")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "localcloud: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	root := *repo
	if root == "" {
		r, err := FindRepoRoot()
		if err != nil {
			fmt.Fprintf(stderr, "localcloud: %v (use -repo)\n", err)
			return 1
		}
		root = r
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ports := Ports{API: *api, DynamoDB: *ddb, SES: *ses, StepFunctions: *sfn, Web: *web, Cognito: *idp}.Offset(*offset)

	cloud, err := Start(ctx, Config{RepoRoot: root, Ports: ports, Logger: logger, SkipSeed: *noSeed})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "localcloud: interrupted while starting")
			return 130
		}
		fmt.Fprintf(stderr, "localcloud: %v\n", err)
		return 1
	}
	PrintURLs(stdout, cloud)
	fmt.Fprintln(stdout, "ready")

	<-ctx.Done()
	fmt.Fprintln(stderr, "localcloud: stopping")
	if err := cloud.Close(); err != nil {
		fmt.Fprintf(stderr, "localcloud: %v\n", err)
		return 1
	}
	return 0
}

// PrintURLs writes where each part of the local cloud answers.
func PrintURLs(w io.Writer, c *Cloud) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "storefront\t%s\n", c.WebURL)
	fmt.Fprintf(tw, "API (HTTP API)\t%s\t/ops/* signed with %s/%s (SigV4, execute-api, %s)\n", c.APIURL, AccessKeyID, SecretAccessKey, Region)
	fmt.Fprintf(tw, "back office\t%s/admin/\tsign in as an operator below\n", c.WebURL)
	fmt.Fprintf(tw, "mail viewer (SES)\t%s\n", c.SESURL)
	fmt.Fprintf(tw, "Step Functions\t%s\t%s\n", c.StepFunctionsURL, c.StateMachineARN)
	fmt.Fprintf(tw, "DynamoDB Local\t%s\ttable %s\n", c.DynamoDBURL, c.Table)
	fmt.Fprintf(tw, "Secrets Manager\t%s\n", c.SecretsManagerURL)
	fmt.Fprintf(tw, "schedules\t%s\tnot run on a clock: curl -X POST %s/<function> fires one (%s)\n", c.SchedulesURL, c.SchedulesURL, strings.Join(c.ScheduledFunctions(), ", "))
	fmt.Fprintf(tw, "IAM\tenforced\tevery function calls the services as its own role (%s)\n", filepath.Base(c.Transformed))
	if p := c.Operators; p != nil {
		fmt.Fprintf(tw, "Cognito (operators)\t%s\tpool %s, client %s\n", c.CognitoURL, p.ID, p.ClientID)
		for _, o := range p.Operators {
			fmt.Fprintf(tw, "  operator %s\t%s\tpassword %s\n", o.Group, o.Email, o.Password)
		}
	}
	_ = tw.Flush()
	if p := c.Operators; p != nil {
		fmt.Fprintf(w, "shopctl: go run ./cmd/shopctl login --cognito %s --client-id %s --email %s\n", c.CognitoURL, p.ClientID, p.Operators[0].Email)
	}
}

// FindRepoRoot walks up from the working directory to the directory holding both
// go.mod and template.yaml.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, "template.yaml")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml with a go.mod above the working directory")
		}
		dir = parent
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
