package digest

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/evidencetracker/evidence"
)

// SubscriberCSVColumns are the columns of the subscriber list as CSV:
// what `evidence subscribers export` and the admins' /admin/subscribers.csv
// write, and what `evidence subscribers import` reads back.
var SubscriberCSVColumns = []string{"email", "status", "topics", "sources", "format"}

// WriteSubscribersCSV writes subscribers as CSV with a header row
// (SubscriberCSVColumns): topics and sources joined with ";" (empty: all).
// A cell a spreadsheet would read as a formula (starting with =, +, - or
// @; an address may) gets a leading apostrophe, which import takes off
// again (UndefuseCSV).
func WriteSubscribersCSV(w io.Writer, subs []evidence.Subscriber) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SubscriberCSVColumns); err != nil {
		return fmt.Errorf("subscribers CSV: %w", err)
	}
	for _, s := range subs {
		row := []string{s.Email, s.Status, strings.Join(s.Topics, ";"), strings.Join(s.Sources, ";"), s.Format}
		for i := range row {
			row[i] = defuseCSV(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("subscribers CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("subscribers CSV: %w", err)
	}
	return nil
}

func defuseCSV(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// UndefuseCSV takes off the apostrophe WriteSubscribersCSV put before a
// cell that looked like a formula.
func UndefuseCSV(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
