// Package emf writes CloudWatch metrics in the Embedded Metric Format: one JSON object per line
// on a Lambda function's standard output, which CloudWatch Logs turns into metrics with no API
// call and no extra permission.
//
// A record, as the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// lays it out:
//
//	{"_aws":{"Timestamp":1795255200123,"CloudWatchMetrics":[{"Namespace":"WebSocketChatApi",
//	  "Dimensions":[["Service"]],"Metrics":[{"Name":"FanoutDelivered","Unit":"Count"}]}]},
//	 "Service":"chat","FanoutDelivered":3}
//
// Dimension values and metric values are top-level members; so are properties, which are not
// metrics but can be searched in CloudWatch Logs Insights.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units this project uses; Valid accepts every CloudWatch unit.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// cloudWatchUnits are the units CloudWatch accepts.
var cloudWatchUnits = map[Unit]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true,
	"Bytes": true, "Kilobytes": true, "Megabytes": true, "Gigabytes": true, "Terabytes": true,
	"Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true,
	"Count/Second": true, "None": true,
}

// Valid reports whether u is a CloudWatch unit.
func (u Unit) Valid() bool { return cloudWatchUnits[u] }

// Limits of the specification and of CloudWatch.
const (
	// MaxMetrics is the most metrics one record may hold.
	MaxMetrics = 100
	// MaxDimensions is the most dimensions one dimension set may hold.
	MaxDimensions = 30
	// MaxNameLength bounds namespaces, dimension names and metric names.
	MaxNameLength = 255
	// MaxDimensionValueLength bounds dimension values.
	MaxDimensionValueLength = 1024
)

// Metric is one value of one metric.
type Metric struct {
	// Name is the metric's name (at most MaxNameLength bytes).
	Name string
	// Unit is a CloudWatch unit (see Unit.Valid).
	Unit Unit
	// Value is the value, a finite number.
	Value float64
}

// Dimension is a dimension of every metric an Emitter writes.
type Dimension struct {
	// Name is the dimension's name (at most MaxNameLength bytes).
	Name string
	// Value is its value (at most MaxDimensionValueLength bytes).
	Value string
}

// Property is a member of a record that is neither a dimension nor a metric: context for
// whoever reads the log.
type Property struct {
	// Name is the member's name; it must be no dimension's or metric's.
	Name string
	// Value is the member's value.
	Value string
}

// Emitter writes EMF records, each as one line and with one Write, to a writer. It is safe
// for concurrent use.
type Emitter struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	dims      []Dimension
	now       func() time.Time
}

// Option configures an Emitter.
type Option func(*Emitter)

// WithClock makes the Emitter read record timestamps from now (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(e *Emitter) { e.now = now }
}

// New returns an Emitter of metrics in namespace, with dims (at least one) as the one dimension
// set of every metric. It checks the namespace (1 to 255 characters of letters, digits, space and . - _ /
// # :, not starting with "AWS/", which AWS reserves) and the dimensions (unique names of 1 to
// 255 printable ASCII characters not starting with ':', values of 1 to 1024 printable ASCII
// characters).
func New(w io.Writer, namespace string, dims []Dimension, opts ...Option) (*Emitter, error) {
	if w == nil {
		return nil, fmt.Errorf("emf: no writer")
	}
	if err := CheckNamespace(namespace); err != nil {
		return nil, err
	}
	if len(dims) == 0 || len(dims) > MaxDimensions {
		return nil, fmt.Errorf("emf: %d dimensions, want 1 to %d", len(dims), MaxDimensions)
	}
	seen := map[string]bool{}
	for _, d := range dims {
		if err := checkText("dimension name", d.Name, MaxNameLength); err != nil {
			return nil, err
		}
		if strings.HasPrefix(d.Name, ":") || d.Name == "_aws" {
			return nil, fmt.Errorf("emf: dimension name %q is reserved", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("emf: dimension %q twice", d.Name)
		}
		seen[d.Name] = true
		if err := CheckDimensionValue(d.Value); err != nil {
			return nil, fmt.Errorf("emf: dimension %s: %w", d.Name, err)
		}
	}
	e := &Emitter{w: w, namespace: namespace, dims: append([]Dimension(nil), dims...), now: time.Now}
	for _, opt := range opts {
		opt(e)
	}
	return e, nil
}

// CheckNamespace returns an error unless ns is a CloudWatch namespace a user may publish to.
func CheckNamespace(ns string) error {
	if ns == "" || len(ns) > MaxNameLength {
		return fmt.Errorf("emf: namespace %q: want 1 to %d characters", ns, MaxNameLength)
	}
	for _, c := range ns {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(" .-_/#:", c)
		if !ok {
			return fmt.Errorf("emf: namespace %q: %q is not a letter, digit, space or one of . - _ / # :", ns, c)
		}
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("emf: namespace %q: AWS/ namespaces are reserved for AWS services", ns)
	}
	return nil
}

// CheckDimensionValue returns an error unless v is a valid dimension value.
func CheckDimensionValue(v string) error {
	if err := checkText("dimension value", v, MaxDimensionValueLength); err != nil {
		return err
	}
	if strings.HasPrefix(v, ":") {
		return fmt.Errorf("emf: dimension value %q must not start with ':'", v)
	}
	return nil
}

// checkText checks that s is 1 to max printable ASCII characters.
func checkText(what, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("emf: %s %q: want 1 to %d characters", what, s, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("emf: %s %q: only printable ASCII characters", what, s)
		}
	}
	return nil
}

// directive is the _aws member of a record.
type directive struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

type metricDirective struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricName `json:"Metrics"`
}

type metricName struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// Emit writes one record holding metrics (1 to MaxMetrics, unique names, finite values, valid
// units) and props. A property may not share a name with a metric, a dimension or "_aws". It
// writes nothing when it returns an error.
func (e *Emitter) Emit(metrics []Metric, props ...Property) error {
	line, err := e.encode(metrics, props)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(line); err != nil {
		return fmt.Errorf("emf: write record: %w", err)
	}
	return nil
}

// encode returns the record as one line, newline included.
func (e *Emitter) encode(metrics []Metric, props []Property) ([]byte, error) {
	if len(metrics) == 0 || len(metrics) > MaxMetrics {
		return nil, fmt.Errorf("emf: %d metrics in a record, want 1 to %d", len(metrics), MaxMetrics)
	}
	rec := make(map[string]any, 1+len(e.dims)+len(metrics)+len(props))
	taken := func(name string) bool {
		_, ok := rec[name]
		return ok || name == "_aws"
	}
	dimNames := make([]string, 0, len(e.dims))
	for _, d := range e.dims {
		rec[d.Name] = d.Value
		dimNames = append(dimNames, d.Name)
	}
	names := make([]metricName, 0, len(metrics))
	for _, m := range metrics {
		if err := checkText("metric name", m.Name, MaxNameLength); err != nil {
			return nil, err
		}
		if taken(m.Name) {
			return nil, fmt.Errorf("emf: metric %q: the name is already a dimension, a metric or _aws", m.Name)
		}
		if !m.Unit.Valid() {
			return nil, fmt.Errorf("emf: metric %q: %q is not a CloudWatch unit", m.Name, m.Unit)
		}
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return nil, fmt.Errorf("emf: metric %q: value %v is not a finite number", m.Name, m.Value)
		}
		rec[m.Name] = m.Value
		names = append(names, metricName{Name: m.Name, Unit: m.Unit})
	}
	for _, p := range props {
		if p.Name == "" || taken(p.Name) {
			return nil, fmt.Errorf("emf: property %q: empty, or already a dimension, a metric or _aws", p.Name)
		}
		rec[p.Name] = p.Value
	}
	rec["_aws"] = directive{
		Timestamp: e.now().UnixMilli(),
		CloudWatchMetrics: []metricDirective{{
			Namespace:  e.namespace,
			Dimensions: [][]string{dimNames},
			Metrics:    names,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("emf: encode record: %w", err)
	}
	return append(b, '\n'), nil
}
