package store

// Saved searches, the topics made from them and the digest sections they
// become (migration 0010).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

// Limits on saved searches.
const (
	// MaxSavedSearches is how many saved searches one account may keep.
	MaxSavedSearches = 100
	// MaxSavedSearchName is the longest name, in characters.
	MaxSavedSearchName = 100
)

// NewFeedToken returns a fresh feed token: 32 random bytes, base64url.
func NewFeedToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("feed token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// feedTokenHash is what a feed token is looked up by.
func feedTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CheckSavedSearchName reports what is wrong with a saved search's name
// ("" if nothing): it is one line of 1 to MaxSavedSearchName characters.
func CheckSavedSearchName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return "give the saved search a name"
	case !utf8.ValidString(name):
		return "the name is not valid UTF-8 text"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "the name may not contain a line break or a control character"
	case n > MaxSavedSearchName:
		return fmt.Sprintf("the name is %d characters long; at most %d are allowed", n, MaxSavedSearchName)
	}
	return ""
}

func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

const savedCols = `id, user_id, name, query, sources, types, topics, year, feed_token, created, last_visit`

// AddSavedSearch stores a user's saved search with a new feed token (its
// ID, Created and FeedToken are set here; LastVisit starts empty, so
// "new since the last visit" counts from Created). A name the user
// already has (in any case) is evidence.ErrConflict, a bad name or a
// user at MaxSavedSearches evidence.ErrInvalid, an unknown user
// evidence.ErrNotFound.
func (s *Store) AddSavedSearch(ctx context.Context, in evidence.SavedSearch) (evidence.SavedSearch, error) {
	in.Name = strings.TrimSpace(in.Name)
	if msg := CheckSavedSearchName(in.Name); msg != "" {
		return evidence.SavedSearch{}, fmt.Errorf("store: save search %q: %s: %w", in.Name, msg, evidence.ErrInvalid)
	}
	id, err := newRowID("s")
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: save search %q: %w", in.Name, err)
	}
	token, err := NewFeedToken()
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: save search %q: %w", in.Name, err)
	}
	sources, _ := json.Marshal(nonNil(in.Sources))
	types, _ := json.Marshal(nonNil(in.Types))
	topics, _ := json.Marshal(nonNil(in.Topics))
	var out evidence.SavedSearch
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var users, have, same int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE id = ?),
			(SELECT count(*) FROM saved_searches WHERE user_id = ?),
			(SELECT count(*) FROM saved_searches WHERE user_id = ? AND name_key = ?)`,
			in.UserID, in.UserID, in.UserID, nameKey(in.Name)).Scan(&users, &have, &same); err != nil {
			return err
		}
		switch {
		case users == 0:
			return fmt.Errorf("user %s: %w", in.UserID, evidence.ErrNotFound)
		case same > 0:
			return fmt.Errorf("you already have a saved search named %q; choose another name: %w", in.Name, evidence.ErrConflict)
		case have >= MaxSavedSearches:
			return fmt.Errorf("you have %d saved searches, the most one account may keep; delete one first: %w", have, evidence.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO saved_searches (id, user_id, name, name_key, query, sources, types, topics, year, feed_token, feed_token_hash, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.UserID, in.Name, nameKey(in.Name), in.Query,
			string(sources), string(types), string(topics), in.Year, token, feedTokenHash(token), fmtTime(s.now())); err != nil {
			return err
		}
		out, err = scanSaved(tx.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: save search %q: %w", in.Name, err)
	}
	return out, nil
}

// SavedSearches lists a user's saved searches by name.
func (s *Store) SavedSearches(ctx context.Context, userID string) ([]evidence.SavedSearch, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE user_id = ? ORDER BY name_key, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: saved searches of %s: %w", userID, s.explain(err))
	}
	defer rows.Close()
	out := []evidence.SavedSearch{}
	for rows.Next() {
		ss, err := scanSaved(rows)
		if err != nil {
			return nil, fmt.Errorf("store: saved searches of %s: %w", userID, err)
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

// SavedSearch returns one of a user's saved searches; another user's, or
// none, is evidence.ErrNotFound.
func (s *Store) SavedSearch(ctx context.Context, userID, id string) (evidence.SavedSearch, error) {
	ss, err := scanSaved(s.rdb.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE id = ? AND user_id = ?`, id, userID))
	if err != nil {
		return ss, fmt.Errorf("store: saved search %s: %w", id, err)
	}
	return ss, nil
}

// SavedSearchByFeedToken returns the saved search whose feed has that
// token (evidence.ErrNotFound when none). It looks the token up by its
// hash, so how long it takes says nothing about how much of a guess was
// right.
func (s *Store) SavedSearchByFeedToken(ctx context.Context, token string) (evidence.SavedSearch, error) {
	if token == "" {
		return evidence.SavedSearch{}, fmt.Errorf("store: saved search feed: %w", evidence.ErrNotFound)
	}
	ss, err := scanSaved(s.rdb.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE feed_token_hash = ?`, feedTokenHash(token)))
	if err != nil {
		return ss, fmt.Errorf("store: saved search feed: %w", err)
	}
	return ss, nil
}

// RenameSavedSearch renames one of a user's saved searches (the same
// rules as AddSavedSearch).
func (s *Store) RenameSavedSearch(ctx context.Context, userID, id, name string) (evidence.SavedSearch, error) {
	name = strings.TrimSpace(name)
	if msg := CheckSavedSearchName(name); msg != "" {
		return evidence.SavedSearch{}, fmt.Errorf("store: rename saved search %s: %s: %w", id, msg, evidence.ErrInvalid)
	}
	var out evidence.SavedSearch
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var same int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM saved_searches WHERE user_id = ? AND name_key = ? AND id != ?`,
			userID, nameKey(name), id).Scan(&same); err != nil {
			return err
		}
		if same > 0 {
			return fmt.Errorf("you already have a saved search named %q; choose another name: %w", name, evidence.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `UPDATE saved_searches SET name = ?, name_key = ? WHERE id = ? AND user_id = ?`, name, nameKey(name), id, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return evidence.ErrNotFound
		}
		out, err = scanSaved(tx.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: rename saved search %s: %w", id, err)
	}
	return out, nil
}

// DeleteSavedSearch deletes one of a user's saved searches, with its
// digest sections (a topic made from it stays in the taxonomy).
func (s *Store) DeleteSavedSearch(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM saved_searches WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("store: delete saved search %s: %w", id, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete saved search %s: %w", id, evidence.ErrNotFound)
	}
	return nil
}

// VisitSavedSearch records that the user opened the saved search at `at`.
func (s *Store) VisitSavedSearch(ctx context.Context, userID, id string, at time.Time) (evidence.SavedSearch, error) {
	return s.updateSaved(ctx, "visit", userID, id, `last_visit = ?`, fmtTime(at))
}

// RotateSavedSearchToken gives the saved search a new feed token: the old
// feed address stops working at once.
func (s *Store) RotateSavedSearchToken(ctx context.Context, userID, id string) (evidence.SavedSearch, error) {
	token, err := NewFeedToken()
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: rotate feed token of %s: %w", id, err)
	}
	return s.updateSaved(ctx, "rotate feed token of", userID, id, `feed_token = ?, feed_token_hash = ?`, token, feedTokenHash(token))
}

func (s *Store) updateSaved(ctx context.Context, what, userID, id, set string, args ...any) (evidence.SavedSearch, error) {
	var out evidence.SavedSearch
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE saved_searches SET `+set+` WHERE id = ? AND user_id = ?`, append(args, id, userID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return evidence.ErrNotFound
		}
		out, err = scanSaved(tx.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_searches WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return evidence.SavedSearch{}, fmt.Errorf("store: %s saved search %s: %w", what, id, err)
	}
	return out, nil
}

func scanSaved(sc interface{ Scan(...any) error }) (evidence.SavedSearch, error) {
	var ss evidence.SavedSearch
	var sources, types, topics, created string
	var lastVisit sql.NullString
	err := sc.Scan(&ss.ID, &ss.UserID, &ss.Name, &ss.Query, &sources, &types, &topics, &ss.Year, &ss.FeedToken, &created, &lastVisit)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, evidence.ErrNotFound
	}
	if err != nil {
		return ss, err
	}
	for _, f := range []struct {
		raw string
		dst *[]string
	}{{sources, &ss.Sources}, {types, &ss.Types}, {topics, &ss.Topics}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return ss, fmt.Errorf("saved search %s: %w", ss.ID, err)
		}
		*f.dst = nonNil(*f.dst)
	}
	if ss.Created, err = parseTime(created); err != nil {
		return ss, err
	}
	if ss.LastVisit, err = parseNullTime(lastVisit); err != nil {
		return ss, err
	}
	return ss, nil
}

// CustomTopic is a topic an admin made from a saved search, kept in the
// store and merged with the configured taxonomy when the index opens.
type CustomTopic struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query"`
	// SavedSearchID is the saved search it was made from ("" once that is
	// deleted).
	SavedSearchID string    `json:"saved_search_id,omitempty"`
	CreatedBy     string    `json:"created_by"`
	Created       time.Time `json:"created"`
}

// AddCustomTopic stores a topic (Created is set here). A name already
// taken by a custom topic (in any case) is evidence.ErrConflict; the
// caller checks the query and the configured taxonomy.
func (s *Store) AddCustomTopic(ctx context.Context, t CustomTopic) (CustomTopic, error) {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || strings.TrimSpace(t.Query) == "" || t.CreatedBy == "" {
		return CustomTopic{}, fmt.Errorf("store: add topic %q: want a name, a query and who made it: %w", t.Name, evidence.ErrInvalid)
	}
	t.Created = s.now().UTC()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM custom_topics WHERE name_key = ?`, nameKey(t.Name)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("a topic named %q was already made from a saved search: %w", t.Name, evidence.ErrConflict)
		}
		var saved any
		if t.SavedSearchID != "" {
			saved = t.SavedSearchID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO custom_topics (name_key, name, description, query, saved_search_id, created_by, created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, nameKey(t.Name), t.Name, t.Description, t.Query, saved, t.CreatedBy, fmtTime(t.Created))
		return err
	})
	if err != nil {
		return CustomTopic{}, fmt.Errorf("store: add topic %q: %w", t.Name, err)
	}
	return t, nil
}

// CustomTopics lists the topics made from saved searches, oldest first.
func (s *Store) CustomTopics(ctx context.Context) ([]CustomTopic, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, description, query, COALESCE(saved_search_id, ''), created_by, created
		FROM custom_topics ORDER BY created, name_key`)
	if err != nil {
		return nil, fmt.Errorf("store: custom topics: %w", s.explain(err))
	}
	defer rows.Close()
	out := []CustomTopic{}
	for rows.Next() {
		var t CustomTopic
		var created string
		if err := rows.Scan(&t.Name, &t.Description, &t.Query, &t.SavedSearchID, &t.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("store: custom topics: %w", err)
		}
		if t.Created, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: custom topics: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RemoveCustomTopic deletes a topic made from a saved search (any case).
func (s *Store) RemoveCustomTopic(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM custom_topics WHERE name_key = ?`, nameKey(name))
	if err != nil {
		return fmt.Errorf("store: remove topic %q: %w", name, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove topic %q: no topic made from a saved search has that name: %w", name, evidence.ErrNotFound)
	}
	return nil
}

// AddDigestSection makes a saved search a section of one subscriber's
// digest. One already there is evidence.ErrConflict; an unknown
// subscriber or saved search evidence.ErrNotFound.
func (s *Store) AddDigestSection(ctx context.Context, subscriberID, savedID, by string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var subs, saved, have int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM subscribers WHERE id = ?),
			(SELECT count(*) FROM saved_searches WHERE id = ?),
			(SELECT count(*) FROM digest_saved_sections WHERE subscriber_id = ? AND saved_search_id = ?)`,
			subscriberID, savedID, subscriberID, savedID).Scan(&subs, &saved, &have); err != nil {
			return err
		}
		switch {
		case subs == 0:
			return fmt.Errorf("subscriber %s: %w", subscriberID, evidence.ErrNotFound)
		case saved == 0:
			return fmt.Errorf("saved search %s: %w", savedID, evidence.ErrNotFound)
		case have > 0:
			return fmt.Errorf("the saved search is already a section of that subscriber's digest: %w", evidence.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO digest_saved_sections (subscriber_id, saved_search_id, added_by, added) VALUES (?, ?, ?, ?)`,
			subscriberID, savedID, by, fmtTime(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add digest section: %w", err)
	}
	return nil
}

// RemoveDigestSection takes a saved search out of a subscriber's digest
// (evidence.ErrNotFound when it was not in it).
func (s *Store) RemoveDigestSection(ctx context.Context, subscriberID, savedID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM digest_saved_sections WHERE subscriber_id = ? AND saved_search_id = ?`, subscriberID, savedID)
	if err != nil {
		return fmt.Errorf("store: remove digest section: %w", s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove digest section: the saved search is not in that subscriber's digest: %w", evidence.ErrNotFound)
	}
	return nil
}

// DigestSections maps each subscriber ID to the saved searches that are
// sections of their digest, by name.
func (s *Store) DigestSections(ctx context.Context) (map[string][]evidence.SavedSearch, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT d.subscriber_id, `+prefixed("s.", savedCols)+`
		FROM digest_saved_sections d JOIN saved_searches s ON s.id = d.saved_search_id ORDER BY d.subscriber_id, s.name_key, s.id`)
	if err != nil {
		return nil, fmt.Errorf("store: digest sections: %w", s.explain(err))
	}
	defer rows.Close()
	out := map[string][]evidence.SavedSearch{}
	for rows.Next() {
		var sub string
		ss, err := scanSaved(prefixScan{rows, &sub})
		if err != nil {
			return nil, fmt.Errorf("store: digest sections: %w", err)
		}
		out[sub] = append(out[sub], ss)
	}
	return out, rows.Err()
}

// DigestSectionSubscribers maps each of a user's saved searches that is a
// digest section to the subscribers (their addresses, sorted) who get it.
func (s *Store) DigestSectionSubscribers(ctx context.Context, userID string) (map[string][]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT d.saved_search_id, b.email FROM digest_saved_sections d
		JOIN saved_searches s ON s.id = d.saved_search_id JOIN subscribers b ON b.id = d.subscriber_id
		WHERE s.user_id = ? ORDER BY d.saved_search_id, b.email_key`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: digest sections of %s: %w", userID, s.explain(err))
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("store: digest sections of %s: %w", userID, err)
		}
		out[id] = append(out[id], email)
	}
	return out, rows.Err()
}

// prefixed qualifies each of a comma-separated column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// prefixScan scans leading columns into first, then the rest as asked.
type prefixScan struct {
	rows  *sql.Rows
	first *string
}

func (p prefixScan) Scan(dst ...any) error { return p.rows.Scan(append([]any{p.first}, dst...)...) }
