// Command default is the $default handler: it answers messages that match no route with an
// error frame that lists the actions the API serves. Its environment is what
// [wsevent.LoadDefaultConfig] reads.
package main

import (
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() { lambdamain.Start(wsevent.LoadDefaultConfig, newHandler) }

// newHandler builds the $default handler; it makes no AWS call.
func newHandler(in lambdamain.Init, cfg wsevent.DefaultConfig) (any, error) {
	h := &wsevent.DefaultHandler{
		RouteSelection: cfg.RouteSelection,
		Actions:        cfg.Actions,
		Logger:         wsevent.NewLogger(in.Stdout, cfg.LogLevel),
	}
	return h.Handle, nil
}
