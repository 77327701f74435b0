package lambdaemu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// BenchmarkColdStart starts each real handler, built for the host, in a fresh process per
// iteration and reports its init phase (process start to first /next) as init-ms (mean) and
// init-p50-ms. Run with: go test -run '^$' -bench ColdStart ./integ/internal/lambdaemu/
func BenchmarkColdStart(b *testing.B) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer jwks.Close()
	table := map[string]string{contract.EnvTableName: "connections"}
	handlers := []struct {
		name string
		env  map[string]string
	}{
		{"default", map[string]string{contract.EnvChatActions: "sendmessage,joinroom"}},
		{"authorizer", map[string]string{contract.EnvAuthIssuer: jwks.URL, contract.EnvAuthAudiences: "client-1", contract.EnvAuthJWKSURL: jwks.URL}},
		{"connect", table},
		{"disconnect", table},
		{"chat", map[string]string{contract.EnvTableName: "connections", contract.EnvCallbackURL: "http://127.0.0.1:1/prod"}},
	}
	for _, h := range handlers {
		b.Run(h.name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), h.name)
			if _, err := lambdaemu.BuildHost(context.Background(), "../../../lambdas/"+h.name, dir); err != nil {
				b.Fatal(err)
			}
			var inits []time.Duration
			for b.Loop() {
				e := lambdaemu.New(lambdaemu.Options{
					Credentials: lambdaemu.Credentials{AccessKeyID: "x", SecretAccessKey: "y"},
					Env:         map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
				})
				if err := e.Add(lambdaemu.Function{Name: h.name, Dir: dir, Environment: h.env, Timeout: 2 * time.Second}); err != nil {
					b.Fatal(err)
				}
				res, err := e.Invoke(context.Background(), h.name, []byte(`{}`))
				if err != nil {
					b.Fatal(err)
				}
				if res.Err != nil && res.Err.Init {
					b.Fatalf("init failed: %v\n%s", res.Err, res.Log)
				}
				inits = append(inits, res.InitDuration)
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
			}
			var sum time.Duration
			for _, d := range inits {
				sum += d
			}
			slices.Sort(inits)
			b.ReportMetric(float64(sum)/float64(len(inits))/float64(time.Millisecond), "init-ms")
			b.ReportMetric(float64(inits[len(inits)/2])/float64(time.Millisecond), "init-p50-ms")
		})
	}
}
