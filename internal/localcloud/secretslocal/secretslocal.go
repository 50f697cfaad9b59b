// Package secretslocal is a minimal local Secrets Manager: an http.Handler speaking the
// JSON 1.1 protocol for GetSecretValue, and a Go API to create and update secrets. It
// checks no signature: in the local cloud it sits behind the IAM proxy
// (internal/localcloud/iam), which does, and which resolves secret names with ARN.
package secretslocal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Store holds the secrets of one account and region. It is safe for concurrent use.
type Store struct {
	region, account string
	now             func() time.Time

	mu      sync.Mutex
	secrets map[string]*secret // by name
}

type secret struct {
	name, arn string
	created   time.Time
	versions  []version // oldest first; the last is AWSCURRENT, the one before AWSPREVIOUS
}

type version struct {
	id, value string
	created   time.Time
}

// New returns an empty store for account in region.
func New(region, account string) *Store {
	return &Store{region: region, account: account, now: time.Now, secrets: map[string]*secret{}}
}

// validName is Secrets Manager's rule for secret names.
var validName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// Put stores value as the secret's current version, creating the secret on first use
// (its ARN ends with "-" and six random characters, as in AWS, so grants written for
// AWS, "name-*", match it). It returns the secret's ARN and the new version's ID. Its
// errors are for the person starting the local cloud, whom the launcher shows them;
// no caller tells them apart, so they carry no kind.
func (s *Store) Put(name, value string) (arn, versionID string, err error) {
	if !validName.MatchString(name) {
		return "", "", fmt.Errorf("secretslocal.put: secret name %q is not 1-512 of A-Z a-z 0-9 /_+=.@-", name)
	}
	if value == "" {
		return "", "", fmt.Errorf("secretslocal.put: secret %s: the value is empty", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	sec, ok := s.secrets[name]
	if !ok {
		sec = &secret{name: name, created: now,
			arn: "arn:aws:secretsmanager:" + s.region + ":" + s.account + ":secret:" + name + "-" + randomSuffix()}
		s.secrets[name] = sec
	}
	v := version{id: uuid(), value: value, created: now}
	sec.versions = append(sec.versions, v)
	return sec.arn, v.id, nil
}

// ARN returns the full ARN of the secret named by id: its name, its full ARN, or its
// ARN without the random suffix (a partial ARN, which Secrets Manager accepts too).
func (s *Store) ARN(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(id)
	if sec == nil {
		return "", false
	}
	return sec.arn, true
}

func (s *Store) find(id string) *secret {
	if !strings.HasPrefix(id, "arn:") {
		return s.secrets[id]
	}
	for _, sec := range s.secrets {
		if sec.arn == id || sec.arn[:len(sec.arn)-7] == id {
			return sec
		}
	}
	return nil
}

// ServeHTTP answers Secrets Manager's JSON 1.1 protocol: GetSecretValue only.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target != "secretsmanager.GetSecretValue" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "the local Secrets Manager implements GetSecretValue only, not "+target)
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &in) != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "the request body is not a GetSecretValue request")
		return
	}
	if in.SecretID == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(in.SecretID)
	if sec == nil {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	idx := len(sec.versions) - 1
	stages := []string{"AWSCURRENT"}
	switch {
	case in.VersionID != "":
		idx = -1
		for i, v := range sec.versions {
			if v.id == in.VersionID {
				idx = i
			}
		}
		if idx < 0 {
			writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+in.VersionID)
			return
		}
	case in.VersionStage == "" || in.VersionStage == "AWSCURRENT":
	case in.VersionStage == "AWSPREVIOUS" && len(sec.versions) > 1:
		idx = len(sec.versions) - 2
	default:
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+in.VersionStage)
		return
	}
	switch idx {
	case len(sec.versions) - 1:
	case len(sec.versions) - 2:
		stages = []string{"AWSPREVIOUS"}
	default:
		// Versions older than AWSPREVIOUS carry no label.
		stages = []string{}
	}
	v := sec.versions[idx]
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", uuid())
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN":           sec.arn,
		"Name":          sec.name,
		"VersionId":     v.id,
		"SecretString":  v.value,
		"VersionStages": stages,
		"CreatedDate":   float64(v.created.UnixMilli()) / 1000,
	})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", uuid())
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": message})
}

// randomSuffix is the six characters Secrets Manager appends to a secret's ARN.
func randomSuffix() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b[:])
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
