package replay

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// startServer runs h under ListenAndServe on 127.0.0.1 and returns its
// address; the server stops when the test ends.
func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- ListenAndServe(ctx, "127.0.0.1:0", h, func(a net.Addr) { addrc <- a.String() })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("ListenAndServe returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ListenAndServe did not return after cancel")
		}
	})
	return addr
}

// get sends a GET for target to addr with the given Host header.
func get(t *testing.T, addr, host, target string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestListenAndServe(t *testing.T) {
	s, _ := newTestServer(t)
	addr := startServer(t, s)
	res, body := get(t, addr, "example.org", "/robots.txt")
	if res.StatusCode != http.StatusOK || string(body) != "User-agent: *\nDisallow: /cms/\n" {
		t.Fatalf("GET /robots.txt = %d %q", res.StatusCode, body)
	}
	res, _ = get(t, addr, "example.org", "/?p=12345")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "https://example.org/a/b/" {
		t.Fatalf("redirect = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestListenAndServeErrors(t *testing.T) {
	t.Run("bad address", func(t *testing.T) {
		err := ListenAndServe(t.Context(), "256.0.0.1:0", http.NotFoundHandler(), nil)
		if err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("stops a slow request", func(t *testing.T) {
		s, _ := newTestServer(t)
		ctx, cancel := context.WithCancel(t.Context())
		addrc := make(chan string, 1)
		errc := make(chan error, 1)
		go func() {
			errc <- ListenAndServe(ctx, "127.0.0.1:0", s, func(a net.Addr) { addrc <- a.String() })
		}()
		addr := <-addrc
		go func() {
			res, err := http.Get("http://" + addr + "/__replay/delay/30s")
			if err == nil {
				res.Body.Close()
			}
		}()
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("ListenAndServe = %v, want nil", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("shutdown took %s", d)
		}
	})
}
