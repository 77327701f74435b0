// Package js holds the JavaScript client of the chat (src/, an ES module for browsers and
// Node) and the chat page built on it (page/), and embeds both for Go servers that serve them
// (integ/internal/chatpage, which `make local` uses).
//
// src/protocol.js is generated from packages protocol and client by this package's test
// (go test ./clients/js -update), so that the JavaScript client's limits and defaults cannot
// drift from the Go ones.
package js

import "embed"

// Files holds src/*.js (the client module) and page/* (the chat page's HTML, CSS and script).
//
//go:embed src/*.js page/*
var Files embed.FS
