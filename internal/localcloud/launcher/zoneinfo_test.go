package launcher

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
)

// The functions' ZONEINFO, read from the template, names the zoneinfo.zip the build
// packages in /var/task; locally it is the toolchain's copy, the file the build copies.
func TestZoneInfo(t *testing.T) {
	fn := func(id string, env map[string]string) cfn.Function { return cfn.Function{LogicalID: id, Env: env} }
	packaged := map[string]string{"ZONEINFO": "/var/task/zoneinfo.zip"}
	goroot := func() (string, error) { return "/opt/go", nil }
	tests := []struct {
		name    string
		fns     []cfn.Function
		goroot  func() (string, error)
		want    string
		wantErr string
	}{
		{"packaged", []cfn.Function{fn("A", packaged), fn("B", packaged)}, goroot, filepath.Join("/opt/go", "lib", "time", "zoneinfo.zip"), ""},
		{"none set", []cfn.Function{fn("A", nil), fn("B", map[string]string{"X": "1"})}, goroot, "", ""},
		{"a file of this machine", []cfn.Function{fn("A", map[string]string{"ZONEINFO": "/srv/zones.zip"})}, goroot, "/srv/zones.zip", ""},
		{"functions disagree", []cfn.Function{fn("A", packaged), fn("B", map[string]string{"ZONEINFO": "/var/task/other.zip"})}, goroot, "", "share one zone database"},
		{"another file of the package", []cfn.Function{fn("A", map[string]string{"ZONEINFO": "/var/task/tz/zones.zip"})}, goroot, "", "packages only /var/task/zoneinfo.zip"},
		{"no go tool", []cfn.Function{fn("A", packaged)}, func() (string, error) { return "", errors.New("go: not found") }, "", "go: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := zoneInfo(tt.fns, tt.goroot)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("zoneInfo = %q, %v; want an error naming %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("zoneInfo = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
