package awsenv

import (
	"context"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfig(t *testing.T) {
	cfg, err := Config(env(map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIA1" || creds.SecretAccessKey != "s" || creds.SessionToken != "tok" || creds.CanExpire {
		t.Errorf("credentials %+v", creds)
	}
	if cfg, _ := Config(env(map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})); cfg.Region != "us-west-2" {
		t.Errorf("AWS_DEFAULT_REGION not used: %q", cfg.Region)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for want, e := range map[string]map[string]string{
		"AWS_REGION":        {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
		"AWS_ACCESS_KEY_ID": {"AWS_REGION": "us-east-1", "AWS_SECRET_ACCESS_KEY": "b"},
	} {
		if _, err := Config(env(e)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s: error %v", want, err)
		}
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all"}, "http://all"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb"}, "http://ddb"},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
	}
	for _, tt := range tests {
		if got := Endpoint(env(tt.env), "dynamodb"); got != tt.want {
			t.Errorf("Endpoint(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestDynamoDBEndpoint(t *testing.T) {
	cfg, err := Config(env(map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	c := DynamoDB(cfg, env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}))
	if ep := c.Options().BaseEndpoint; ep == nil || *ep != "http://127.0.0.1:8000" {
		t.Errorf("BaseEndpoint %v", ep)
	}
	if ep := DynamoDB(cfg, env(nil)).Options().BaseEndpoint; ep != nil {
		t.Errorf("BaseEndpoint without override %v", *ep)
	}
}
