package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// PostOptions configures sending events to an OpenLineage HTTP consumer
// (Marquez, DataHub, Snowflake's external lineage endpoint, ...).
type PostOptions struct {
	URL    string // for example http://localhost:5000/api/v1/lineage
	APIKey string // sent as "Authorization: Bearer <key>"; never logged or put in errors
	// BatchSize is the number of events per request. 1 (the default) posts
	// each event as a JSON object, which every consumer accepts; larger
	// values post JSON arrays, for consumers with a batch endpoint.
	BatchSize int
	// MaxAttempts bounds the tries per request; 0 means 6.
	MaxAttempts int
	// Backoff is the first wait after a failed try; it doubles per try, up
	// to 30s, unless the server sends Retry-After. 0 means 500ms.
	Backoff time.Duration
	Client  *http.Client // nil means a client with a 30s timeout
}

// Post sends events in order. A request is retried, with backoff, on
// network errors, 429 and 5xx; any other status fails at once. Every
// event is sent in exactly one successful request: a batch is resent only
// when the server did not accept it. Post returns how many events were
// accepted, so a caller can report progress when it fails part-way.
func Post(ctx context.Context, events []Event, opts PostOptions) (int, error) {
	if opts.URL == "" {
		return 0, errors.New("post openlineage events: no URL")
	}
	batch := max(opts.BatchSize, 1)
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	sent := 0
	for start := 0; start < len(events); start += batch {
		end := min(start+batch, len(events))
		body, err := encodeBatch(events[start:end], opts.BatchSize > 1)
		if err != nil {
			return sent, err
		}
		if err := postWithRetry(ctx, client, opts, body); err != nil {
			return sent, fmt.Errorf("post openlineage events %d-%d of %d to %s: %w", start+1, end, len(events), opts.URL, err)
		}
		sent = end
	}
	return sent, nil
}

func encodeBatch(events []Event, array bool) ([]byte, error) {
	if !array {
		return marshalEvent(events[0])
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, ev := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		line, err := marshalEvent(ev)
		if err != nil {
			return nil, err
		}
		b.Write(line)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func postWithRetry(ctx context.Context, client *http.Client, opts PostOptions, body []byte) error {
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	wait := opts.Backoff
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	var lastErr error
	for try := 1; ; try++ {
		retryAfter, err := postOnce(ctx, client, opts, body)
		if err == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		lastErr = err
		if try >= attempts {
			return fmt.Errorf("giving up after %d attempts: %w", try, lastErr)
		}
		d := wait
		if retryAfter > 0 {
			d = retryAfter
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-t.C:
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// permanentError is a response that retrying will not fix (400, 401, ...).
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// postOnce makes one request. It returns the server's Retry-After, if any,
// with a retryable error.
func postOnce(ctx context.Context, client *http.Client, opts PostOptions, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opts.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{fmt.Sprintf("bad request: %v", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	if opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+opts.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, &permanentError{ctx.Err().Error()}
		}
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	msg := fmt.Sprintf("server answered %s", resp.Status)
	if len(snippet) > 0 {
		msg += ": " + string(bytes.TrimSpace(snippet))
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		var after time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			after = time.Duration(s) * time.Second
		}
		return after, errors.New(msg)
	}
	return 0, &permanentError{msg}
}
