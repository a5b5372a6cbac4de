package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/evidencetracker/evidence/web"
)

// BenchmarkSearchPage serves the search page and the search API from the
// server's handler (middleware included) over the catalog fixture: the cost
// of a request beyond the search itself.
func BenchmarkSearchPage(b *testing.B) {
	for _, path := range []string{"/search?q=patient+activation", "/api/v1/search?q=patient+activation"} {
		b.Run(path, func(b *testing.B) {
			fx := newCatalogFixtureB(b, web.Options{})
			h := fx.handler
			req := httptest.NewRequest("GET", path, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s = %d", path, w.Code)
				}
			}
		})
	}
}
