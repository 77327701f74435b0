package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/chatpage"
)

// mountPage serves the chat page (clients/js) at / of the token service's mux, so that the
// page gets its tokens from its own origin; wsURL is the stack's WebSocket URL.
func mountPage(mux *http.ServeMux, wsURL string) error {
	h, err := chatpage.Handler(wsURL)
	if err != nil {
		return fmt.Errorf("chat page: %w", err)
	}
	mux.Handle("GET /", h)
	return nil
}

// pageURL is the chat page's URL: the root of the token service.
func pageURL(tokenURL string) string {
	return strings.TrimSuffix(tokenURL, chatpage.TokenPath) + "/"
}
