package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/evidencetracker/evidence"
)

// DeliveryLog is the store's delivery log as Deliver needs it: a
// (week, subscriber) row claimed before sending, marked sent in the
// transaction that records the server's reply.
type DeliveryLog interface {
	ClaimDelivery(ctx context.Context, week, subscriberID, messageID string) (evidence.Delivery, bool, error)
	MarkDelivered(ctx context.Context, week, subscriberID, reply string) error
	MarkFailed(ctx context.Context, week, subscriberID, cause string, permanent bool, bounceLimit int) (bool, error)
}

// Transport sends one message; *Sender is the SMTP one, *DirTransport
// writes .eml files.
type Transport interface {
	Send(ctx context.Context, m Message) (Result, error)
}

// Batch is one week's digest to a list of subscribers.
type Batch struct {
	Week        string
	Subscribers []evidence.Subscriber
	// Compose builds a subscriber's message; ok=false means their digest
	// would be empty and nothing is sent (or claimed).
	Compose     func(ctx context.Context, sub evidence.Subscriber) (m Message, ok bool, err error)
	BounceLimit int
	// Progress, if set, is called after each subscriber.
	Progress func(done, total int)
	// Workers send that many messages at once (default 1); Compose and the
	// Transport must then be safe for concurrent use.
	Workers int
}

// DeliveryReport counts what a batch did.
type DeliveryReport struct {
	Week        string `json:"week"`
	Subscribers int    `json:"subscribers"`
	Sent        int    `json:"sent"`
	AlreadySent int    `json:"already_sent"`
	// RefusedBefore: the server refused this week's digest for them
	// permanently in an earlier run; it is not tried again.
	RefusedBefore int               `json:"refused_before"`
	Empty         int               `json:"empty"`
	Failed        int               `json:"failed"`
	NowBouncing   int               `json:"now_bouncing"`
	Failures      []DeliveryFailure `json:"failures"`
}

// DeliveryFailure is one subscriber whose digest did not go.
type DeliveryFailure struct {
	Email     string `json:"email"`
	Permanent bool   `json:"permanent"`
	Error     string `json:"error"`
}

// Deliver sends a batch so that every subscriber gets the week's digest
// once, whatever was sent before: rows already sent are skipped, rows a
// cut-off run left claimed are sent again with the same Message-ID. A
// failure for one subscriber is recorded and the batch goes on; a
// cancelled context stops it (the current row stays claimed, to be sent by
// the next run). A store error stops it too: without the log, sending on
// could send twice.
func Deliver(ctx context.Context, dl DeliveryLog, tr Transport, b Batch, log *slog.Logger) (DeliveryReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := DeliveryReport{Week: b.Week, Subscribers: len(b.Subscribers), Failures: []DeliveryFailure{}}
	workers := min(max(b.Workers, 1), max(len(b.Subscribers), 1))
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var mu sync.Mutex // guards rep, done and firstErr
	done := 0
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stop(err)
	}
	next := make(chan evidence.Subscriber)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range next {
				if err := deliverOne(ctx, dl, tr, b, sub, &rep, &mu, log); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				done++
				if b.Progress != nil {
					b.Progress(done, len(b.Subscribers))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, sub := range b.Subscribers {
		select {
		case next <- sub:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return rep, firstErr
	}
	if err := context.Cause(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// deliverOne composes, claims, sends and records one subscriber's digest.
func deliverOne(ctx context.Context, dl DeliveryLog, tr Transport, b Batch, sub evidence.Subscriber, rep *DeliveryReport, mu *sync.Mutex, log *slog.Logger) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, ok, err := b.Compose(ctx, sub)
	if err != nil {
		return fmt.Errorf("digest %s for %s: %w", b.Week, sub.Email, err)
	}
	if !ok {
		mu.Lock()
		rep.Empty++
		mu.Unlock()
		return nil
	}
	d, claimed, err := dl.ClaimDelivery(ctx, b.Week, sub.ID, m.MessageID)
	if err != nil {
		return err
	}
	if !claimed {
		mu.Lock()
		if d.Status == evidence.DeliverySent {
			rep.AlreadySent++
		} else {
			rep.RefusedBefore++
		}
		mu.Unlock()
		return nil
	}
	res, err := tr.Send(ctx, m)
	var de *DeliveryError
	switch {
	case err == nil:
		// The server has the message: record it even if the run is
		// being cancelled.
		if err := dl.MarkDelivered(context.WithoutCancel(ctx), b.Week, sub.ID, res.Reply); err != nil {
			return err
		}
		mu.Lock()
		rep.Sent++
		mu.Unlock()
	case errors.As(err, &de):
		bouncing, merr := dl.MarkFailed(context.WithoutCancel(ctx), b.Week, sub.ID, de.Error(), de.Permanent, b.BounceLimit)
		if merr != nil {
			return merr
		}
		mu.Lock()
		rep.Failed++
		rep.Failures = append(rep.Failures, DeliveryFailure{Email: sub.Email, Permanent: de.Permanent, Error: de.Error()})
		if bouncing {
			rep.NowBouncing++
		}
		mu.Unlock()
		if bouncing {
			log.Warn("digest: subscriber now bouncing", "email", sub.Email, "limit", b.BounceLimit)
		}
		log.Warn("digest: delivery failed", "week", b.Week, "email", sub.Email, "permanent", de.Permanent, "err", err)
	default:
		// Cancelled (or another stop): the row stays claimed.
		return fmt.Errorf("digest %s to %s: %w", b.Week, sub.Email, err)
	}
	return nil
}

// DirTransport writes each message as DIR/<to>.eml instead of sending it
// (digest send --dry-run).
type DirTransport struct{ Dir string }

// Send writes the message file.
func (d *DirTransport) Send(_ context.Context, m Message) (Result, error) {
	b, err := m.Bytes()
	if err != nil {
		return Result{}, &DeliveryError{To: m.To, Permanent: true, Attempts: 1, Err: err}
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("mail: dry run: %w", err)
	}
	name := filepath.Join(d.Dir, sanitizeIDPart(m.To)+".eml")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return Result{}, fmt.Errorf("mail: dry run: %w", err)
	}
	return Result{Attempts: 1, Reply: "written to " + name}, nil
}

// MemoryLog is a DeliveryLog that remembers nothing between runs: for dry
// runs, which must not mark anyone as sent.
type MemoryLog struct {
	mu   sync.Mutex
	sent map[string]bool
}

// ClaimDelivery claims every row once per MemoryLog.
func (l *MemoryLog) ClaimDelivery(_ context.Context, week, sub, mid string) (evidence.Delivery, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string]bool{}
	}
	k := week + "\x00" + sub
	if l.sent[k] {
		return evidence.Delivery{Week: week, SubscriberID: sub, MessageID: mid, Status: evidence.DeliverySent}, false, nil
	}
	l.sent[k] = true
	return evidence.Delivery{Week: week, SubscriberID: sub, MessageID: mid, Status: evidence.DeliveryClaimed}, true, nil
}

// MarkDelivered does nothing.
func (l *MemoryLog) MarkDelivered(context.Context, string, string, string) error { return nil }

// MarkFailed does nothing.
func (l *MemoryLog) MarkFailed(context.Context, string, string, string, bool, int) (bool, error) {
	return false, nil
}
