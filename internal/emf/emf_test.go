package emf_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/emf"
)

var at = time.Date(2026, 11, 21, 10, 0, 0, 123_000_000, time.UTC)

// record is an EMF record as the specification lays it out.
type record struct {
	AWS struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func newEmitter(t *testing.T, w *bytes.Buffer) *emf.Emitter {
	t.Helper()
	e, err := emf.New(w, "WebSocketChatApi", []emf.Dimension{{Name: "Service", Value: "chat"}}, emf.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmitWritesOneSpecRecordPerLine(t *testing.T) {
	var buf bytes.Buffer
	e := newEmitter(t, &buf)
	err := e.Emit([]emf.Metric{
		{Name: "FanoutDelivered", Unit: emf.Count, Value: 3},
		{Name: "FanoutDurationMs", Unit: emf.Milliseconds, Value: 12.5},
	}, emf.Property{Name: "action", Value: "sendmessage"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Emit([]emf.Metric{{Name: "RateLimited", Unit: emf.Count, Value: 1}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("output %q: want two newline-terminated lines", buf.String())
	}

	var rec record
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	if rec.AWS.Timestamp == nil || *rec.AWS.Timestamp != at.UnixMilli() {
		t.Errorf("_aws.Timestamp = %v, want %d (epoch ms)", rec.AWS.Timestamp, at.UnixMilli())
	}
	if len(rec.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("%d CloudWatchMetrics directives, want 1", len(rec.AWS.CloudWatchMetrics))
	}
	d := rec.AWS.CloudWatchMetrics[0]
	if d.Namespace != "WebSocketChatApi" || len(d.Dimensions) != 1 || strings.Join(d.Dimensions[0], ",") != "Service" {
		t.Errorf("directive %+v, want namespace WebSocketChatApi and dimensions [[Service]]", d)
	}
	if len(d.Metrics) != 2 || d.Metrics[0].Name != "FanoutDelivered" || d.Metrics[0].Unit != "Count" ||
		d.Metrics[1].Name != "FanoutDurationMs" || d.Metrics[1].Unit != "Milliseconds" {
		t.Errorf("metrics %+v", d.Metrics)
	}
	// Dimension values, metric values and properties are top-level members.
	var top map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &top); err != nil {
		t.Fatal(err)
	}
	if top["Service"] != "chat" || top["FanoutDelivered"] != 3.0 || top["FanoutDurationMs"] != 12.5 || top["action"] != "sendmessage" || len(top) != 5 {
		t.Errorf("top level %v", top)
	}

	if err := json.Unmarshal([]byte(lines[1]), &top); err != nil {
		t.Fatal(err)
	}
	if top["RateLimited"] != 1.0 {
		t.Errorf("second record %s", lines[1])
	}
}

func TestEmitRefusesBadRecords(t *testing.T) {
	var buf bytes.Buffer
	e := newEmitter(t, &buf)
	many := make([]emf.Metric, emf.MaxMetrics+1)
	for i := range many {
		many[i] = emf.Metric{Name: "M" + strings.Repeat("x", i), Unit: emf.Count}
	}
	tests := map[string]struct {
		metrics []emf.Metric
		props   []emf.Property
	}{
		"no metrics":           {nil, nil},
		"too many":             {many, nil},
		"NaN":                  {[]emf.Metric{{Name: "A", Unit: emf.Count, Value: math.NaN()}}, nil},
		"infinite":             {[]emf.Metric{{Name: "A", Unit: emf.Count, Value: math.Inf(1)}}, nil},
		"bad unit":             {[]emf.Metric{{Name: "A", Unit: "Things"}}, nil},
		"no name":              {[]emf.Metric{{Unit: emf.Count}}, nil},
		"duplicate metric":     {[]emf.Metric{{Name: "A", Unit: emf.Count}, {Name: "A", Unit: emf.Count}}, nil},
		"metric = dimension":   {[]emf.Metric{{Name: "Service", Unit: emf.Count}}, nil},
		"metric = _aws":        {[]emf.Metric{{Name: "_aws", Unit: emf.Count}}, nil},
		"property = metric":    {[]emf.Metric{{Name: "A", Unit: emf.Count}}, []emf.Property{{Name: "A", Value: "x"}}},
		"property = _aws":      {[]emf.Metric{{Name: "A", Unit: emf.Count}}, []emf.Property{{Name: "_aws", Value: "x"}}},
		"unnamed property":     {[]emf.Metric{{Name: "A", Unit: emf.Count}}, []emf.Property{{Value: "x"}}},
		"property = dimension": {[]emf.Metric{{Name: "A", Unit: emf.Count}}, []emf.Property{{Name: "Service", Value: "x"}}},
	}
	for name, tt := range tests {
		if err := e.Emit(tt.metrics, tt.props...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("refused records were written: %q", buf.String())
	}
}

func TestNewChecksNamespaceAndDimensions(t *testing.T) {
	var buf bytes.Buffer
	svc := []emf.Dimension{{Name: "Service", Value: "chat"}}
	for _, ns := range []string{"", "AWS/Lambda", "bad\nname", "émoji", strings.Repeat("n", 256)} {
		if _, err := emf.New(&buf, ns, svc); err == nil {
			t.Errorf("namespace %q accepted", ns)
		}
	}
	for _, ns := range []string{"WebSocketChatApi", "My App/chat-prod_1.#:x", strings.Repeat("n", 255)} {
		if _, err := emf.New(&buf, ns, svc); err != nil {
			t.Errorf("namespace %q: %v", ns, err)
		}
	}
	for name, dims := range map[string][]emf.Dimension{
		"none":          nil,
		"empty value":   {{Name: "Service", Value: ""}},
		"empty name":    {{Name: "", Value: "chat"}},
		"colon name":    {{Name: ":x", Value: "chat"}},
		"colon value":   {{Name: "Service", Value: ":chat"}},
		"control char":  {{Name: "Service", Value: "ch\tat"}},
		"duplicate":     {{Name: "Service", Value: "a"}, {Name: "Service", Value: "b"}},
		"reserved name": {{Name: "_aws", Value: "a"}},
	} {
		if _, err := emf.New(&buf, "Ns", dims); err == nil {
			t.Errorf("dimensions %s (%v) accepted", name, dims)
		}
	}
	if _, err := emf.New(nil, "Ns", svc); err == nil {
		t.Error("nil writer accepted")
	}
}

// countingWriter counts Write calls and records what each wrote.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestEmitIsOneWritePerRecordUnderConcurrency(t *testing.T) {
	w := &countingWriter{}
	e, err := emf.New(w, "Ns", []emf.Dimension{{Name: "Service", Value: "chat"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := e.Emit([]emf.Metric{{Name: "A", Unit: emf.Count, Value: 1}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(w.writes) != 20 {
		t.Fatalf("%d writes for 20 records", len(w.writes))
	}
	for _, s := range w.writes {
		if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || !json.Valid([]byte(s)) {
			t.Errorf("write %q is not one JSON line", s)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestEmitReportsWriteErrors(t *testing.T) {
	e, err := emf.New(failingWriter{}, "Ns", []emf.Dimension{{Name: "Service", Value: "chat"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Emit([]emf.Metric{{Name: "A", Unit: emf.Count}}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Emit on a failing writer = %v", err)
	}
}
