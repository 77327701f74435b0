package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	chatclient "github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/protocol"
)

// The chaos test's shape: chaosClients clients of package client in chaosRooms rooms, every
// third one sending continuously, for chaosSending; locally the gateway meanwhile cuts a
// random connection every chaosDropEvery, closes connections idle for chaosIdle and every
// connection at chaosMaxAge.
const (
	chaosClients    = 20
	chaosRooms      = 4
	chaosSending    = 25 * time.Second
	chaosSendEvery  = 150 * time.Millisecond
	chaosDropEvery  = time.Second
	chaosIdle       = 5 * time.Second
	chaosMaxAge     = 15 * time.Second
	chaosSettleTime = 40 * time.Second
)

// chaosMember is one client of the test and what it received.
type chaosMember struct {
	id     int
	c      *chatclient.Client
	rooms  []string
	mu     sync.Mutex
	got    map[string][]protocol.Message // room -> messages in the order delivered
	lost   []chatclient.LostEvent
	states map[chatclient.State]int
	roomEr []chatclient.RoomErrorEvent
}

func (m *chaosMember) collect() {
	for ev := range m.c.Events() {
		m.mu.Lock()
		switch e := ev.(type) {
		case *chatclient.MessageEvent:
			m.got[e.RoomID] = append(m.got[e.RoomID], e.Message)
		case *chatclient.LostEvent:
			m.lost = append(m.lost, *e)
		case *chatclient.StateEvent:
			m.states[e.State]++
		case *chatclient.RoomErrorEvent:
			m.roomEr = append(m.roomEr, *e)
		}
		m.mu.Unlock()
	}
}

// delivered returns the number of the last message delivered in room.
func (m *chaosMember) delivered(room string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms := m.got[room]; len(ms) > 0 {
		return ms[len(ms)-1].Seq
	}
	return 0
}

// chaosAcks records every acknowledged message: room -> seq -> message id.
type chaosAcks struct {
	mu   sync.Mutex
	acks map[string]map[int64]string
	dups int
}

func (a *chaosAcks) add(ack protocol.Ack) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ack.Duplicate {
		a.dups++
	}
	if id, ok := a.acks[ack.RoomID][ack.Seq]; ok && id != ack.MessageID {
		return fmt.Errorf("room %s seq %d acknowledged as %s and as %s", ack.RoomID, ack.Seq, id, ack.MessageID)
	}
	if a.acks[ack.RoomID] == nil {
		a.acks[ack.RoomID] = map[int64]string{}
	}
	a.acks[ack.RoomID][ack.Seq] = ack.MessageID
	return nil
}

// TestChaos: clients of package client chat in several rooms while connections are cut at
// random, idle ones are closed and every connection reaches its cap. Every acknowledged
// message is delivered exactly once, in sequence order, to every client of its room; nothing
// is delivered that was not acknowledged. On the deployed target it runs without the drops
// and the shortened limits, which only the local gateway can cause.
func TestChaos(t *testing.T) {
	url, token, drop := chaosTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rooms := make([]string, chaosRooms)
	for i := range rooms {
		rooms[i] = room(fmt.Sprintf("chaos%d", i))
	}
	members := dialChaos(ctx, t, url, token, rooms)
	acks := &chaosAcks{acks: map[string]map[int64]string{}}
	drops := runChaos(ctx, t, members, acks, drop)
	settle(ctx, t, members, acks)
	checkChaos(t, members, acks, drops)
}

// dialChaos connects the clients, client i with token(i), and joins each to one or two rooms
// before anyone sends.
func dialChaos(ctx context.Context, t *testing.T, url string, token func(int) string, rooms []string) []*chaosMember {
	members := make([]*chaosMember, chaosClients)
	for i := range members {
		tok := token(i)
		opts := chatclient.Options{
			Token:             func(context.Context) (string, error) { return tok, nil },
			MinBackoff:        20 * time.Millisecond,
			MaxBackoff:        500 * time.Millisecond,
			HeartbeatInterval: time.Second,
			PongTimeout:       5 * time.Second,
			MaxConnectionAge:  10 * time.Second,
			RequestTimeout:    10 * time.Second,
			GapTimeout:        time.Second,
		}
		switch i % 4 {
		case 1: // no proactive replacement: these meet the gateway's cap
			opts.MaxConnectionAge = time.Hour
		case 2: // heartbeat slower than the idle timeout: the quiet ones are closed as idle
			opts.HeartbeatInterval = 2 * chaosIdle
		case 3:
			opts.TokenTransport = chatclient.TokenInSubprotocol
		}
		c, err := chatclient.Dial(ctx, url, opts)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		m := &chaosMember{id: i, c: c, got: map[string][]protocol.Message{}, states: map[chatclient.State]int{}}
		m.rooms = []string{rooms[i%len(rooms)]}
		if i%2 == 0 {
			m.rooms = append(m.rooms, rooms[(i+1)%len(rooms)])
		}
		go m.collect()
		for _, r := range m.rooms {
			if err := c.Join(ctx, r); err != nil {
				t.Fatalf("client %d join %s: %v", i, r, err)
			}
		}
		members[i] = m
	}
	return members
}

// runChaos runs the senders (every third client, to each of its rooms in turn) and, when drop
// is set, cuts a random connection every chaosDropEvery, for chaosSending. It returns how many
// connections were cut.
func runChaos(ctx context.Context, t *testing.T, members []*chaosMember, acks *chaosAcks, drop func() bool) int {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range members {
		if m.id%3 != 0 {
			continue
		}
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(chaosSendEvery):
				}
				r := m.rooms[n%len(m.rooms)]
				ack, err := m.c.Send(ctx, r, fmt.Sprintf("client %d message %d", m.id, n))
				if err != nil {
					t.Errorf("client %d send %d to %s: %v", m.id, n, r, err)
					return
				}
				if err := acks.add(ack); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var drops atomic.Int64
	if drop != nil {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(chaosDropEvery):
				}
				if drop() {
					drops.Add(1)
				}
			}
		})
	}
	time.Sleep(chaosSending)
	close(stop)
	wg.Wait()
	return int(drops.Load())
}

// settle waits until every client has delivered, in each of its rooms, up to the room's last
// acknowledged number.
func settle(ctx context.Context, t *testing.T, members []*chaosMember, acks *chaosAcks) {
	last := map[string]int64{}
	for r, seqs := range acks.acks {
		for n := range seqs {
			last[r] = max(last[r], n)
		}
	}
	deadline := time.Now().Add(chaosSettleTime)
	for _, m := range members {
		for _, r := range m.rooms {
			for m.delivered(r) < last[r] {
				if time.Now().After(deadline) || ctx.Err() != nil {
					t.Fatalf("client %d has room %s up to %d of %d after %v (state %v)", m.id, r, m.delivered(r), last[r], chaosSettleTime, m.c.State())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// checkChaos checks what every client got against the acknowledgements, and prints the counts.
func checkChaos(t *testing.T, members []*chaosMember, acks *chaosAcks, drops int) {
	deliveries, reconnects := 0, 0
	for _, m := range members {
		m.mu.Lock()
		reconnects += m.states[chatclient.Reconnecting]
		if len(m.lost) > 0 || len(m.roomEr) > 0 {
			t.Errorf("client %d: lost %v, room errors %v", m.id, m.lost, m.roomEr)
		}
		for _, r := range m.rooms {
			got := m.got[r]
			deliveries += len(got)
			if len(got) != len(acks.acks[r]) {
				t.Errorf("client %d room %s: %d messages delivered, %d acknowledged", m.id, r, len(got), len(acks.acks[r]))
			}
			for i, msg := range got {
				if msg.Seq != int64(i+1) {
					t.Errorf("client %d room %s: delivery %d is seq %d, want %d", m.id, r, i, msg.Seq, i+1)
					break
				}
				if id, ok := acks.acks[r][msg.Seq]; !ok || id != msg.MessageID {
					t.Errorf("client %d room %s: seq %d is %s, acknowledged as %q", m.id, r, msg.Seq, msg.MessageID, id)
				}
			}
		}
		m.mu.Unlock()
	}
	acked := 0
	names := make([]string, 0, len(acks.acks))
	for r, seqs := range acks.acks {
		acked += len(seqs)
		names = append(names, fmt.Sprintf("%s:%d", r, len(seqs)))
	}
	sort.Strings(names)
	t.Logf("chaos on %s: %d clients, %d rooms (%v), %d messages acknowledged (%d retries answered duplicate), %d deliveries, %d connections cut, %d reconnects",
		tg.name, len(members), len(acks.acks), names, acked, acks.dups, deliveries, drops, reconnects)
	if acked == 0 || deliveries == 0 {
		t.Fatal("nothing was sent or delivered")
	}
}

// chaosTarget returns the URL the chaos runs against, the token of its i-th user and, locally,
// a function that cuts a random open connection (reporting whether there was one). Locally it
// is a stack of its own, whose gateway closes idle connections after chaosIdle and every one at
// chaosMaxAge.
func chaosTarget(t *testing.T) (string, func(int) string, func() bool) {
	if tg.env == nil {
		return tg.url, func(i int) string { return tg.user(t, i).token }, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := local.Start(ctx, local.Options{AssemblyDir: assemblyDir, LogSink: logs, IdleTimeout: chaosIdle, MaxConnectionDuration: chaosMaxAge})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	token := func(i int) string {
		tok, err := env.Token(fmt.Sprintf("chaos-u%d", i), fmt.Sprintf("Chaos %d", i))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	return env.URL, token, func() bool {
		ids := env.Gateway.Connections()
		if len(ids) == 0 {
			return false
		}
		return env.Gateway.Drop(ids[rand.IntN(len(ids))]) == nil
	}
}
