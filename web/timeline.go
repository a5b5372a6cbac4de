package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/evidencetracker/evidence"
)

// markPolicy keeps <mark> and nothing else: snippets come from the index
// already escaped, and this makes sure of it whatever the feed held.
var markPolicy = bluemonday.NewPolicy().AllowElements("mark")

func markOnly(snippet string) template.HTML {
	return template.HTML(markPolicy.Sanitize(snippet)) //nolint:gosec // sanitised: <mark> only
}

// timeline is the results' items per period, drawn as an SVG bar chart
// (server-side, no script) with a table as its text alternative.
type timeline struct {
	Per     string // "month" or "year"
	Bars    []bar
	Max     int
	Width   int
	Height  int
	Summary string
	Ticks   []tick
}

type bar struct {
	Label, Title string
	LinkLabel    string
	Count        int
	X, Y, W, H   float64
	URL          string
	// Attrs are X, Y, W and H as SVG attributes ("12.5"), formatted once.
	XA, YA, WA, HA string
}

type tick struct {
	X     float64
	XA    string
	Label string
}

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// timelineMonths: longer spans are drawn per year.
const timelineMonths = 96

// newTimeline lays out months ("2024-03": n) for a chart 640×120; nil
// when there is nothing to draw.
func newTimeline(months []evidence.FacetCount, p searchParams) *timeline {
	type period struct {
		key   string
		count int
	}
	if len(months) == 0 {
		return nil
	}
	first, err1 := time.Parse("2006-01", months[0].Value)
	last, err2 := time.Parse("2006-01", months[len(months)-1].Value)
	if err1 != nil || err2 != nil {
		return nil
	}
	span := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	t := &timeline{Per: "month", Width: 640, Height: 120}
	var periods []period
	if span > timelineMonths {
		t.Per = "year"
		byYear := map[int]int{}
		for _, m := range months {
			if y, err := strconv.Atoi(m.Value[:4]); err == nil {
				byYear[y] += m.Count
			}
		}
		for y := first.Year(); y <= last.Year(); y++ {
			periods = append(periods, period{strconv.Itoa(y), byYear[y]})
		}
	} else {
		byMonth := map[string]int{}
		for _, m := range months {
			byMonth[m.Value] = m.Count
		}
		for d := first; !d.After(last); d = d.AddDate(0, 1, 0) {
			k := d.Format("2006-01")
			periods = append(periods, period{k, byMonth[k]})
		}
	}
	total := 0
	for _, pr := range periods {
		t.Max = max(t.Max, pr.count)
		total += pr.count
	}
	if t.Max == 0 {
		return nil
	}
	plotH := float64(t.Height - 20)
	slot := float64(t.Width) / float64(len(periods))
	w := max(slot*0.8, 1)
	for i, pr := range periods {
		h := plotH * float64(pr.count) / float64(t.Max)
		if pr.count > 0 && h < 2 {
			h = 2
		}
		label := pr.key
		if t.Per == "month" {
			if d, err := time.Parse("2006-01", pr.key); err == nil {
				label = d.Format("January 2006")
			}
		}
		b := bar{Label: label, Count: pr.count, X: float64(i)*slot + (slot-w)/2, Y: plotH - h, W: w, H: h,
			Title: fmt.Sprintf("%s: %s", label, countItems(pr.count))}
		b.XA, b.YA, b.WA, b.HA = svgNum(b.X), svgNum(b.Y), svgNum(b.W), svgNum(b.H)
		year := pr.key[:4]
		if pr.count > 0 {
			b.URL = p.toggleYear(year).URL("/search")
			b.LinkLabel = b.Title + ": show " + year
		}
		t.Bars = append(t.Bars, b)
		// A tick at each year's first period.
		if t.Per == "year" || strings.HasSuffix(pr.key, "-01") || i == 0 {
			if t.Per == "month" || len(periods) <= 12 || i%max(1, len(periods)/8) == 0 {
				x := float64(i)*slot + slot/2
				t.Ticks = append(t.Ticks, tick{X: x, XA: svgNum(x), Label: year})
			}
		}
	}
	if len(t.Ticks) > 10 {
		step := (len(t.Ticks) + 9) / 10
		var keep []tick
		for i, tk := range t.Ticks {
			if i%step == 0 {
				keep = append(keep, tk)
			}
		}
		t.Ticks = keep
	}
	t.Summary = fmt.Sprintf("%s per %s, %s to %s; the most in one %s is %d.", countItems(total), t.Per,
		t.Bars[0].Label, t.Bars[len(t.Bars)-1].Label, t.Per, t.Max)
	return t
}

// toggleYear is p filtered to year (page 1), for a timeline bar's link.
func (p searchParams) toggleYear(year string) searchParams {
	q := p
	q.Page, q.Year = 1, year
	return q
}
