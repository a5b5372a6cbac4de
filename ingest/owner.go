package ingest

import (
	"net/url"
	"strings"
)

// SourceFor returns the configured source whose site serves raw's host (with
// or without "www."): the source whose rules Canonical applies to raw.
func (p *Pipeline) SourceFor(raw string) (Source, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Source{}, false
	}
	host := strings.ToLower(u.Hostname())
	for _, s := range p.opts.Sources {
		if s.ownsHost(host) {
			return s, true
		}
	}
	return Source{}, false
}
