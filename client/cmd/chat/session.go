package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/protocol"
)

// requestTimeout bounds each command's wait for the server.
const requestTimeout = 30 * time.Second

// session is the terminal: events printed as they come, commands read line by line.
type session struct {
	c    *client.Client
	out  io.Writer
	mu   sync.Mutex // guards out and room
	room string     // where typed lines go
}

func (s *session) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format, args...)
}

func (s *session) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.room
}

// printEvents prints every event until the client closes.
func (s *session) printEvents() {
	for e := range s.c.Events() {
		switch e := e.(type) {
		case *client.MessageEvent:
			s.printMessage(e.Message)
		case *client.PresenceEvent:
			s.printf("* %s %s #%s\n", name(e.UserID, e.DisplayName), e.Event, e.RoomID)
		case *client.LostEvent:
			s.printf("* #%s: messages %d to %d are past retention\n", e.RoomID, e.From, e.To)
		case *client.StateEvent:
			if e.Err != nil {
				s.printf("* %s (%v)\n", e.State, e.Err)
			} else {
				s.printf("* %s\n", e.State)
			}
		case *client.RoomErrorEvent:
			s.printf("* #%s dropped: %v\n", e.RoomID, e.Err)
		}
	}
}

// printMessage prints "[seq] user: text", prefixed by the room when it is not the current one.
func (s *session) printMessage(m protocol.Message) {
	prefix := ""
	if m.RoomID != s.current() {
		prefix = "#" + m.RoomID + " "
	}
	s.printf("%s[%d] %s: %s\n", prefix, m.Seq, name(m.UserID, m.DisplayName), m.Text)
}

func name(userID, displayName string) string {
	if displayName != "" {
		return displayName
	}
	return userID
}

// readCommands runs each line of in until /quit, the end of in, or ctx.
func (s *session) readCommands(ctx context.Context, in io.Reader) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok || strings.TrimSpace(line) == "/quit" {
				return nil
			}
			if err := s.command(ctx, line); err != nil {
				s.printf("! %v\n", err)
			}
		}
	}
}

// command runs one line: a /command, or text to send to the current room.
func (s *session) command(ctx context.Context, line string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "":
		return nil
	case "/join":
		if err := s.c.Join(ctx, arg); err != nil {
			return err
		}
		s.mu.Lock()
		s.room = arg
		s.mu.Unlock()
		s.printf("* joined #%s\n", arg)
		return nil
	case "/leave":
		if arg == "" {
			arg = s.current()
		}
		return s.c.Leave(ctx, arg)
	case "/history":
		return s.history(ctx, arg)
	}
	if strings.HasPrefix(cmd, "/") {
		return fmt.Errorf("unknown command %s: /join room, /leave room, /history [n], /quit", cmd)
	}
	_, err := s.c.Send(ctx, s.current(), line)
	return err
}

// history prints the current room's last n messages (20 by default).
func (s *session) history(ctx context.Context, arg string) error {
	n := protocol.DefaultHistoryLimit
	if arg != "" {
		v, err := strconv.Atoi(arg)
		if err != nil || v < 1 || v > protocol.MaxHistoryLimit {
			return fmt.Errorf("/history takes a count from 1 to %d", protocol.MaxHistoryLimit)
		}
		n = v
	}
	page, err := s.c.History(ctx, s.current(), client.HistoryQuery{Limit: n})
	if err != nil {
		return err
	}
	for _, m := range page.Messages {
		s.printMessage(m)
	}
	return nil
}
