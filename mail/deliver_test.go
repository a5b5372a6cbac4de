package mail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/internal/smtptest"
	"github.com/evidencetracker/evidence/store"
)

func deliveryStore(t *testing.T, emails ...string) (*store.Store, []evidence.Subscriber) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var subs []evidence.Subscriber
	for _, e := range emails {
		s, _, err := st.AddSubscriber(context.Background(), store.SubscriberInput{Email: e, Status: evidence.SubscriberActive})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	return st, subs
}

func batch(subs []evidence.Subscriber, empty string) Batch {
	return Batch{
		Week: "2026-W47", Subscribers: subs, BounceLimit: 3,
		Compose: func(_ context.Context, s evidence.Subscriber) (Message, bool, error) {
			if s.Email == empty {
				return Message{}, false, nil
			}
			m := testMessage(s.Email)
			m.MessageID = DigestMessageID("2026-W47", s.ID, "evidence.example.org")
			return m, true, nil
		},
	}
}

func received(srv *smtptest.Server) map[string]int {
	n := map[string]int{}
	for _, m := range srv.Messages() {
		n[m.To[0]]++
	}
	return n
}

func TestDeliverExactlyOnce(t *testing.T) {
	emails := []string{"a@example.org", "b@example.org", "empty@example.org", "gone@example.org", "later@example.org"}
	st, subs := deliveryStore(t, emails...)
	srv := startSMTP(t, smtptest.Options{})
	srv.AddFault(smtptest.Fault{Stage: smtptest.StageRcpt, To: "gone@example.org", Code: 550})
	srv.AddFault(smtptest.Fault{Stage: smtptest.StageRcpt, To: "later@example.org", Code: 451})
	s := testSender(t, srv, nil)
	ctx := context.Background()

	rep, err := Deliver(ctx, st, s, batch(subs, "empty@example.org"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || rep.Empty != 1 || rep.Failed != 2 || len(rep.Failures) != 2 {
		t.Fatalf("first run = %+v", rep)
	}
	// Second run: the sent are skipped, the 550 is not retried, the 451
	// (now accepted) is sent.
	srv.ClearFaults()
	rep, err = Deliver(ctx, st, s, batch(subs, "empty@example.org"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 1 || rep.AlreadySent != 2 || rep.RefusedBefore != 1 || rep.Failed != 0 {
		t.Fatalf("second run = %+v", rep)
	}
	got := received(srv)
	for _, e := range []string{"a@example.org", "b@example.org", "later@example.org"} {
		if got[e] != 1 {
			t.Errorf("%s received %d copies, want 1", e, got[e])
		}
	}
	if got["gone@example.org"]+got["empty@example.org"] != 0 {
		t.Errorf("received = %v", got)
	}
	log, err := st.Deliveries(ctx, "2026-W47")
	if err != nil || len(log) != 4 {
		t.Fatalf("delivery log = %+v, %v", log, err)
	}
	for _, d := range log {
		want := evidence.DeliverySent
		if d.Email == "gone@example.org" {
			want = evidence.DeliveryFailed
		}
		if d.Status != want {
			t.Errorf("%s: status %s, want %s", d.Email, d.Status, want)
		}
	}
}

// cutTransport sends n messages and then fails as a killed process would:
// with the context cancelled before the next message leaves.
type cutTransport struct {
	inner  Transport
	n      int
	cancel context.CancelFunc
}

func (c *cutTransport) Send(ctx context.Context, m Message) (Result, error) {
	if c.n == 0 {
		c.cancel()
		return Result{}, ctx.Err()
	}
	c.n--
	return c.inner.Send(ctx, m)
}

func TestDeliverCutAndResumed(t *testing.T) {
	var emails []string
	for i := range 12 {
		emails = append(emails, fmt.Sprintf("r%02d@example.org", i))
	}
	st, subs := deliveryStore(t, emails...)
	srv := startSMTP(t, smtptest.Options{})
	s := testSender(t, srv, nil)
	for _, cut := range []int{0, 1, 4, 3} { // 8 of 12 sent, then the rest
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Deliver(ctx, st, &cutTransport{inner: s, n: cut, cancel: cancel}, batch(subs, ""), nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cut after %d: %v", cut, err)
		}
	}
	rep, err := Deliver(context.Background(), st, s, batch(subs, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent+rep.AlreadySent != len(emails) {
		t.Errorf("final run = %+v", rep)
	}
	for _, e := range emails {
		if n := received(srv)[e]; n != 1 {
			t.Errorf("%s received %d copies, want exactly 1", e, n)
		}
	}
}

func TestDeliverDryRun(t *testing.T) {
	_, subs := deliveryStore(t, "a@example.org", "b+x@example.org")
	dir := t.TempDir()
	rep, err := Deliver(context.Background(), &MemoryLog{}, &DirTransport{Dir: dir}, batch(subs, ""), nil)
	if err != nil || rep.Sent != 2 {
		t.Fatalf("dry run = %+v, %v", rep, err)
	}
	for _, f := range []string{"a_example.org.eml", "b_x_example.org.eml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("dry run file: %v", err)
		}
	}
}
