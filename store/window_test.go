package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestItemsFirstSeen(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// Week 2026-W44 in London: Monday 26 October 00:00 (GMT, after the
	// clocks went back) to Monday 2 November 00:00.
	from := time.Date(2026, 10, 26, 0, 0, 0, 0, london)
	to := time.Date(2026, 11, 2, 0, 0, 0, 0, london)
	seen := map[string]time.Time{
		"before":      from.Add(-time.Nanosecond),
		"at-start":    from,
		"mid-week":    time.Date(2026, 10, 29, 9, 0, 0, 0, london),
		"sunday-late": to.Add(-time.Second),
		"at-end":      to,
		"later":       to.AddDate(0, 0, 3),
	}
	ids := map[string]string{}
	for _, name := range []string{"later", "at-end", "sunday-late", "mid-week", "at-start", "before"} {
		it := sampleItem("https://www.nationalelfservice.net/" + name)
		it.FirstSeen = seen[name]
		mustUpsert(t, s, it)
		ids[name] = it.ID
	}
	target := sampleItem("https://www.centreformentalhealth.org.uk/report")
	target.FirstSeen = from.AddDate(0, 0, -30)
	target.Source = evidence.SourceCentreForMH
	mustUpsert(t, s, target)
	post := sampleItem("https://www.nationalelfservice.net/post")
	post.FirstSeen = seen["mid-week"].Add(time.Hour)
	post.Links = []string{target.URL}
	mustUpsert(t, s, post)

	got, err := s.ItemsFirstSeen(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byID := map[string]evidence.Item{}
	for _, it := range got {
		byID[it.ID] = it
		for n, id := range ids {
			if id == it.ID {
				names = append(names, n)
			}
		}
		if it.ID == post.ID {
			names = append(names, "post")
		}
	}
	t.Run("window is [from, to) in order of first seen", func(t *testing.T) {
		want := []string{"at-start", "mid-week", "post", "sunday-late"}
		if !slices.Equal(names, want) {
			t.Errorf("items = %v, want %v", names, want)
		}
	})
	t.Run("relations filled", func(t *testing.T) {
		if p := byID[post.ID]; !slices.Equal(p.Discusses, []string{target.ID}) {
			t.Errorf("post discusses %v, want [%s]", p.Discusses, target.ID)
		}
	})
	t.Run("empty window is an error", func(t *testing.T) {
		_, err := s.ItemsFirstSeen(ctx, to, from)
		if !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("reversed window: err = %v, want ErrInvalid", err)
		}
	})
	t.Run("nothing seen is an empty list", func(t *testing.T) {
		got, err := s.ItemsFirstSeen(ctx, from.AddDate(-1, 0, 0), from.AddDate(-1, 0, 7))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("got %v, %v; want an empty, non-nil list", got, err)
		}
	})
	t.Run("the query uses the first_seen index", func(t *testing.T) {
		o := newObserver(t, path)
		rows, err := o.conn.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM items WHERE first_seen >= ? AND first_seen < ? ORDER BY first_seen, id`, fmtTime(from), fmtTime(to))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if !strings.Contains(strings.Join(plan, "; "), "items_first_seen") {
			t.Errorf("query plan %q does not use items_first_seen", plan)
		}
	})
}
