package digest

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestWriteSubscribersCSV(t *testing.T) {
	subs := []evidence.Subscriber{
		{Email: "reader@example.org", Status: evidence.SubscriberActive, Topics: []string{"recovery", "workforce"}, Format: "html"},
		{Email: "-team@example.org", Status: evidence.SubscriberUnsubscribed, Sources: []string{"kings-fund"}, Format: "text"},
		{Email: `"a,b"@example.org`, Status: evidence.SubscriberPending, Format: "html"},
	}
	var b strings.Builder
	if err := WriteSubscribersCSV(&b, subs); err != nil {
		t.Fatal(err)
	}
	want := "email,status,topics,sources,format\n" +
		"reader@example.org,active,recovery;workforce,,html\n" +
		"'-team@example.org,unsubscribed,,kings-fund,text\n" +
		`"""a,b""@example.org",pending,,,html` + "\n"
	if b.String() != want {
		t.Errorf("CSV =\n%s\nwant\n%s", b.String(), want)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		if got := UndefuseCSV(rows[i+1][0]); got != s.Email {
			t.Errorf("row %d reads back as %q, want %q", i+1, got, s.Email)
		}
	}
	if UndefuseCSV("'plain") != "'plain" || UndefuseCSV("'") != "'" {
		t.Error("UndefuseCSV changed a cell it did not defuse")
	}
}
