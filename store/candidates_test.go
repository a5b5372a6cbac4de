package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// TestCandidates runs steps in order on one store; each puts a candidate
// and says whether that may write, then checks what Candidate returns.
func TestCandidates(t *testing.T) {
	ctx := context.Background()
	s, c, path := newStore(t)
	o := newObserver(t, path)
	const (
		page  = "https://www.kingsfund.org.uk/insight-and-analysis/blogs/x"
		other = "https://www.kingsfund.org.uk/insight-and-analysis/blogs/y"
	)
	if sig, id, ok, err := s.Candidate(ctx, page); err != nil || ok || sig != "" || id != "" {
		t.Fatalf("Candidate(unknown) = %q, %q, %v, %v; want nothing", sig, id, ok, err)
	}

	steps := []struct {
		name              string
		url, source, sig  string
		itemID            string
		wantWrite         bool
		wantSig, wantItem string
	}{
		{"first time", page, evidence.SourceKingsFund, "sig1", "item1", true, "sig1", "item1"},
		{"same signature and item writes nothing", page, evidence.SourceKingsFund, "sig1", "item1", false, "sig1", "item1"},
		{"other source, same signature and item writes nothing", page, evidence.SourceMentalElf, "sig1", "item1", false, "sig1", "item1"},
		{"new signature", page, evidence.SourceKingsFund, "sig2", "item1", true, "sig2", "item1"},
		{"same signature, other item", page, evidence.SourceKingsFund, "sig2", "item2", true, "sig2", "item2"},
		{"page became no item", page, evidence.SourceKingsFund, "sig2", "", true, "sig2", ""},
		{"no item again writes nothing", page, evidence.SourceKingsFund, "sig2", "", false, "sig2", ""},
		{"another page", other, evidence.SourceKingsFund, "sig9", "", true, "sig9", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.Advance(time.Minute)
			before := o.dataVersion()
			if err := s.PutCandidate(ctx, st.url, st.source, st.sig, st.itemID); err != nil {
				t.Fatalf("PutCandidate: %v", err)
			}
			if wrote := o.dataVersion() != before; wrote != st.wantWrite {
				t.Errorf("wrote = %v, want %v", wrote, st.wantWrite)
			}
			sig, id, ok, err := s.Candidate(ctx, st.url)
			if err != nil || !ok || sig != st.wantSig || id != st.wantItem {
				t.Errorf("Candidate = %q, %q, %v, %v; want %q, %q, true", sig, id, ok, err, st.wantSig, st.wantItem)
			}
		})
	}

	t.Run("item_id stored as NULL when empty", func(t *testing.T) {
		if n := o.queryInt(`SELECT COUNT(*) FROM candidates WHERE item_id IS NULL`); n != 2 {
			t.Errorf("rows with NULL item_id = %d, want 2", n)
		}
	})
	t.Run("empty url is invalid", func(t *testing.T) {
		if err := s.PutCandidate(ctx, " ", "", "s", ""); !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("PutCandidate(empty) = %v, want ErrInvalid", err)
		}
	})
}
