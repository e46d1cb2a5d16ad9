package export

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lineageServer fails the first `failures` requests with 503, then
// records every event it accepts, and checks the API key.
type lineageServer struct {
	mu       sync.Mutex
	failures int
	requests int
	received map[string]int // runId/job name -> times accepted
}

func (s *lineageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.Header.Get("Authorization") != "Bearer secret-key" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if s.failures > 0 {
		s.failures--
		http.Error(w, "warming up", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var events []Event
	if strings.HasPrefix(string(body), "[") {
		if err := json.Unmarshal(body, &events); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events = append(events, ev)
	}
	for _, ev := range events {
		s.received[ev.Run.RunID+" "+ev.Job.Name]++
	}
	w.WriteHeader(http.StatusCreated)
}

func TestPostRetriesAndDeliversOnce(t *testing.T) {
	events := OpenLineageEvents(testGraph(), OpenLineageOptions{})
	for _, batch := range []int{1, 2} {
		srv := &lineageServer{failures: 3, received: map[string]int{}}
		ts := httptest.NewServer(srv)
		n, err := Post(context.Background(), events, PostOptions{URL: ts.URL, APIKey: "secret-key", BatchSize: batch, Backoff: time.Millisecond})
		ts.Close()
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if n != len(events) {
			t.Errorf("batch %d: Post reported %d events sent, want %d", batch, n, len(events))
		}
		want := map[string]int{}
		for _, ev := range events {
			want[ev.Run.RunID+" "+ev.Job.Name] = 1
		}
		if d := cmp.Diff(want, srv.received); d != "" {
			t.Errorf("batch %d: events received (-want +got):\n%s", batch, d)
		}
		wantRequests := 3 + (len(events)+batch-1)/batch
		if srv.requests != wantRequests {
			t.Errorf("batch %d: %d requests, want %d", batch, srv.requests, wantRequests)
		}
	}
}

func TestPostErrors(t *testing.T) {
	events := OpenLineageEvents(testGraph(), OpenLineageOptions{})
	srv := &lineageServer{received: map[string]int{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// A wrong key is permanent: one request, no retries, key not echoed.
	_, err := Post(context.Background(), events, PostOptions{URL: ts.URL, APIKey: "wrong-key", Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("wrong key: error = %v", err)
	}
	if srv.requests != 1 {
		t.Errorf("wrong key: %d requests, want 1", srv.requests)
	}

	// A server that never recovers: bounded attempts, then an error.
	srv.failures, srv.requests = 1000, 0
	n, err := Post(context.Background(), events, PostOptions{URL: ts.URL, APIKey: "secret-key", MaxAttempts: 3, Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") || n != 0 {
		t.Errorf("down server: n = %d, error = %v", n, err)
	}
	if srv.requests != 3 {
		t.Errorf("down server: %d requests, want 3", srv.requests)
	}

	// Cancellation stops the backoff wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Post(ctx, events, PostOptions{URL: ts.URL, APIKey: "secret-key", Backoff: time.Hour}); err == nil {
		t.Error("cancelled context: no error")
	}
}
