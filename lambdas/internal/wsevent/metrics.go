package wsevent

import (
	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/emf"
)

// MetricsConfig says where a handler's metrics go: CloudWatch Embedded Metric Format records
// in Namespace, with the one dimension [contract.DimensionService] = Service.
type MetricsConfig struct {
	// Namespace is the CloudWatch namespace ([contract.EnvMetricsNamespace]).
	Namespace string
	// Service is the [contract.DimensionService] value ([contract.EnvMetricsService]).
	Service string
}

// metrics reads [contract.EnvMetricsNamespace] (default [contract.MetricsNamespace]) and
// [contract.EnvMetricsService] (default [contract.DefaultMetricsService]).
func (r *reader) metrics() MetricsConfig {
	return MetricsConfig{
		Namespace: r.Checked(contract.EnvMetricsNamespace, contract.MetricsNamespace, emf.CheckNamespace),
		Service:   r.Checked(contract.EnvMetricsService, contract.DefaultMetricsService, emf.CheckDimensionValue),
	}
}

// fanoutMetrics are the metrics of a broadcast: sent counts the chat messages it carried (1
// for a message, 0 for presence events).
func fanoutMetrics(sent float64, f chat.FanoutStats) []emf.Metric {
	return []emf.Metric{
		{Name: contract.MetricMessagesSent, Unit: emf.Count, Value: sent},
		{Name: contract.MetricFanoutRecipients, Unit: emf.Count, Value: float64(f.Targets)},
		{Name: contract.MetricFanoutDelivered, Unit: emf.Count, Value: float64(f.Delivered)},
		{Name: contract.MetricFanoutFailures, Unit: emf.Count, Value: float64(f.Undelivered)},
		{Name: contract.MetricFanoutGone, Unit: emf.Count, Value: float64(f.Gone)},
		{Name: contract.MetricFanoutRetries, Unit: emf.Count, Value: float64(f.Retries)},
		{Name: contract.MetricFanoutDurationMs, Unit: emf.Milliseconds, Value: float64(f.Duration.Microseconds()) / 1000},
	}
}

// emit writes one EMF record to m, with the route key as the property "action"; nil m writes
// nothing. A failure to write is logged.
func emit(r *request, m *emf.Emitter, metrics []emf.Metric) {
	if m == nil {
		return
	}
	if err := m.Emit(metrics, emf.Property{Name: "action", Value: r.rc.RouteKey}); err != nil {
		r.log.WarnContext(r.ctx, "metrics not written", "error", err.Error())
	}
}
