package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// connectionInfo is the GetConnection answer.
type connectionInfo struct {
	ConnectedAt  string             `json:"connectedAt"`
	Identity     connectionIdentity `json:"identity"`
	LastActiveAt string             `json:"lastActiveAt"`
}

type connectionIdentity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// isoMillis formats t as the ISO 8601 timestamps of the management API.
func isoMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// serveManagement serves POST, GET and DELETE /<stage>/@connections/<id>.
func (g *Gateway) serveManagement(w http.ResponseWriter, r *http.Request, id string) {
	start := time.Now()
	status := g.manage(w, r, id)
	g.log.LogAttrs(r.Context(), slog.LevelDebug, "@connections",
		slog.String("method", r.Method), slog.String("connectionId", id), slog.Int("status", status),
		slog.Float64("latencyMs", float64(time.Since(start).Microseconds())/1000))
}

func (g *Gateway) manage(w http.ResponseWriter, r *http.Request, id string) int {
	if f := g.cfg.AuthorizeManagement; f != nil {
		if err := f(r, r.Method, id); err != nil {
			var me *ManagementError
			if errors.As(err, &me) {
				writeJSONError(w, me.Status, me.Type, fmt.Sprintf(`{"message":%s}`, jsonString(me.Message)))
				return me.Status
			}
			writeJSONError(w, http.StatusForbidden, "AccessDeniedException", fmt.Sprintf(`{"Message":%s}`, jsonString(err.Error())))
			return http.StatusForbidden
		}
	}
	switch r.Method {
	case http.MethodPost:
		data, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageBytes+1))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "BadRequestException", fmt.Sprintf(`{"message":%s}`, jsonString("could not read the request body: "+err.Error())))
			return http.StatusBadRequest
		}
		if len(data) > MaxMessageBytes {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", `{"message":"The data has exceeded the maximum size allowed."}`)
			return http.StatusRequestEntityTooLarge
		}
		c := g.lookup(id)
		if c == nil || c.send(r.Context(), data) != nil {
			return writeGone(w)
		}
		w.Header().Set("x-amzn-RequestId", newID())
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	case http.MethodGet:
		c := g.lookup(id)
		if c == nil {
			return writeGone(w)
		}
		c.mu.Lock()
		info := connectionInfo{
			ConnectedAt:  isoMillis(c.connectedAt),
			Identity:     connectionIdentity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
			LastActiveAt: isoMillis(c.lastActive),
		}
		c.mu.Unlock()
		b, err := json.Marshal(info)
		if err != nil {
			writeJSONError(w, http.StatusInternalServerError, "InternalServerErrorException", `{"message":"Internal server error"}`)
			return http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-RequestId", newID())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return http.StatusOK
	case http.MethodDelete:
		c := g.lookup(id)
		if c == nil {
			return writeGone(w)
		}
		c.initiateClose(closeNormal, reasonDeleted)
		w.Header().Set("x-amzn-RequestId", newID())
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeJSONError(w, http.StatusForbidden, "ForbiddenException", fmt.Sprintf(`{"message":%s}`,
		jsonString(fmt.Sprintf("No method found matching route %s/@connections/%s for http method %s.", g.stage.Name, id, r.Method))))
	return http.StatusForbidden
}

// writeGone answers 410 GoneException, which the SDKs map to their GoneException.
func writeGone(w http.ResponseWriter) int {
	writeJSONError(w, http.StatusGone, "GoneException", `{}`)
	return http.StatusGone
}
