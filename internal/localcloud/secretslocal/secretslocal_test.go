package secretslocal_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/lmsshop/checkout/internal/localcloud/secretslocal"
)

func client(t *testing.T, url string) *secretsmanager.Client {
	t.Helper()
	return secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
}

func TestGetSecretValue(t *testing.T) {
	store := secretslocal.New("us-east-1", "123456789012")
	arn, v1, err := store.Put("shop-checkout-settings", `{"MOODLE_TOKEN":"old"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-checkout-settings-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-checkout-settings-")+6 {
		t.Fatalf("ARN = %s, want the name and a six-character suffix", arn)
	}
	arn2, v2, err := store.Put("shop-checkout-settings", `{"MOODLE_TOKEN":"new"}`)
	if err != nil || arn2 != arn || v2 == v1 {
		t.Fatalf("second Put = %s %s %v, want the same ARN and a new version", arn2, v2, err)
	}
	// Bad input leaves the stored secret unchanged.
	if _, _, err := store.Put("shop-checkout-settings", ""); err == nil {
		t.Fatal("Put of an empty value succeeded")
	}
	if _, _, err := store.Put("bad name!", "x"); err == nil {
		t.Fatal("Put with an invalid name succeeded")
	}

	srv := httptest.NewServer(store)
	defer srv.Close()
	sm := client(t, srv.URL)

	tests := []struct {
		name              string
		in                secretsmanager.GetSecretValueInput
		wantValue         string
		wantVersion       string
		wantStage         string
		wantNotFound      bool
		wantNotFoundMatch string
	}{
		{name: "by name", in: secretsmanager.GetSecretValueInput{SecretId: aws.String("shop-checkout-settings")}, wantValue: `{"MOODLE_TOKEN":"new"}`, wantVersion: v2, wantStage: "AWSCURRENT"},
		{name: "by ARN", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}, wantValue: `{"MOODLE_TOKEN":"new"}`, wantVersion: v2, wantStage: "AWSCURRENT"},
		{name: "by partial ARN", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-7])}, wantValue: `{"MOODLE_TOKEN":"new"}`, wantVersion: v2, wantStage: "AWSCURRENT"},
		{name: "previous stage", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")}, wantValue: `{"MOODLE_TOKEN":"old"}`, wantVersion: v1, wantStage: "AWSPREVIOUS"},
		{name: "by version", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(v1)}, wantValue: `{"MOODLE_TOKEN":"old"}`, wantVersion: v1, wantStage: "AWSPREVIOUS"},
		{name: "unknown name", in: secretsmanager.GetSecretValueInput{SecretId: aws.String("other")}, wantNotFound: true, wantNotFoundMatch: "can't find the specified secret"},
		{name: "unknown ARN suffix", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-1] + "#")}, wantNotFound: true, wantNotFoundMatch: "can't find the specified secret"},
		{name: "unknown version", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String("00000000-0000-4000-8000-000000000000")}, wantNotFound: true, wantNotFoundMatch: "VersionId"},
		{name: "unknown stage", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING")}, wantNotFound: true, wantNotFoundMatch: "staging label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sm.GetSecretValue(context.Background(), &tt.in)
			if tt.wantNotFound {
				var nf *types.ResourceNotFoundException
				if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), tt.wantNotFoundMatch) {
					t.Fatalf("err = %v, want ResourceNotFoundException mentioning %q", err, tt.wantNotFoundMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.SecretString) != tt.wantValue || aws.ToString(out.ARN) != arn ||
				aws.ToString(out.Name) != "shop-checkout-settings" || aws.ToString(out.VersionId) != tt.wantVersion {
				t.Errorf("got %s %s %s %s", aws.ToString(out.SecretString), aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(out.VersionId))
			}
			if len(out.VersionStages) != 1 || out.VersionStages[0] != tt.wantStage {
				t.Errorf("stages = %v, want [%s]", out.VersionStages, tt.wantStage)
			}
			if out.CreatedDate == nil || out.CreatedDate.IsZero() {
				t.Error("no CreatedDate")
			}
		})
	}

	if _, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)}); err == nil {
		t.Error("DescribeSecret answered, want an unknown-operation error")
	}
	if got, ok := store.ARN("shop-checkout-settings"); !ok || got != arn {
		t.Errorf("ARN(name) = %s %v", got, ok)
	}
}
