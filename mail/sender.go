package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"
)

// TLS modes (config smtp.tls).
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Options configure a Sender; cmd fills them from the smtp.* keys.
type Options struct {
	Host     string
	Port     int
	TLS      string // none, starttls, tls
	Username string
	Password string
	// Timeout bounds the connection and every read and write on it, so a
	// stalled server is an error, not a hang. Default 30 s.
	Timeout time.Duration
	// Rate is messages per second at most (0: no limit).
	Rate float64
	// Retries after a temporary failure (4xx, a dropped or refused
	// connection); Backoff is the first wait, doubled each time.
	Retries int
	Backoff time.Duration
	// Connections is how many SMTP connections may be open at once, each
	// reused for many messages (default 1); Send is safe for that many
	// goroutines at a time.
	Connections int
	// TLSConfig overrides the TLS settings (tests).
	TLSConfig *tls.Config
	// Sleep waits between retries; tests inject one that does not sleep.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// DeliveryError is a failed delivery: Permanent for a 5xx answer (the
// address or message was refused: do not retry), else temporary.
type DeliveryError struct {
	To        string
	Permanent bool
	Code      int // SMTP reply code when the server gave one
	Attempts  int
	Err       error
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	code := ""
	if e.Code != 0 {
		code = " " + strconv.Itoa(e.Code)
	}
	return fmt.Sprintf("mail: deliver to %s: %s failure%s after %d attempt(s): %v", e.To, kind, code, e.Attempts, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Result describes an accepted message.
type Result struct {
	Attempts int
	Reply    string // what the server said, as far as the library tells
}

// Sender sends messages over reused SMTP connections (Options.Connections
// of them), reconnecting one when it breaks. It is safe for concurrent use.
type Sender struct {
	opts    Options
	limiter *rate.Limiter
	pool    chan *smtpConn
	log     *slog.Logger
	mu      sync.Mutex
	dials   int
}

// smtpConn is one slot of the pool: a connection, or nil until needed.
type smtpConn struct{ client *gomail.Client }

// NewSender checks the options; it connects on the first Send.
func NewSender(opts Options) (*Sender, error) {
	if opts.Host == "" {
		return nil, errors.New("mail: smtp.host is not set")
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSStartTLS
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("mail: smtp.tls %q: want none, starttls or tls", opts.TLS)
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[opts.TLS]
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	s := &Sender{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	if opts.Connections <= 0 {
		opts.Connections = 1
	}
	s.opts.Connections = opts.Connections
	s.pool = make(chan *smtpConn, opts.Connections)
	for range opts.Connections {
		s.pool <- &smtpConn{}
	}
	return s, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Dials is how many connections the sender has opened.
func (s *Sender) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

func (s *Sender) connect(ctx context.Context, sc *smtpConn) (*gomail.Client, error) {
	if sc.client != nil {
		return sc.client, nil
	}
	o := s.opts
	copts := []gomail.Option{
		gomail.WithPort(o.Port),
		gomail.WithTimeout(o.Timeout),
		gomail.WithHELO("localhost"),
		gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if o.TLS == TLSImplicit {
				cfg := o.TLSConfig
				if cfg == nil {
					cfg = &tls.Config{ServerName: o.Host, MinVersion: tls.VersionTLS12}
				}
				tc := tls.Client(c, cfg)
				if err := tc.HandshakeContext(ctx); err != nil {
					c.Close()
					return nil, err
				}
				c = tc
			}
			return &deadlineConn{Conn: c, timeout: o.Timeout}, nil
		}),
	}
	switch o.TLS {
	case TLSNone, TLSImplicit: // implicit TLS is done by the dialer above
		copts = append(copts, gomail.WithTLSPortPolicy(gomail.NoTLS))
	case TLSStartTLS:
		copts = append(copts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	}
	if o.TLSConfig != nil {
		copts = append(copts, gomail.WithTLSConfig(o.TLSConfig))
	}
	if o.Username != "" {
		// Without TLS only PLAIN, which the library allows to localhost
		// alone: a password never crosses a network in clear.
		auth := gomail.SMTPAuthAutoDiscover
		if o.TLS == TLSNone {
			auth = gomail.SMTPAuthPlain
		}
		copts = append(copts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(o.Username), gomail.WithPassword(o.Password))
	}
	c, err := gomail.NewClient(o.Host, copts...)
	if err != nil {
		return nil, fmt.Errorf("mail: client for %s:%d: %w", o.Host, o.Port, err)
	}
	// Port is set after the TLS policy: WithTLSPortPolicy may change it.
	if err := gomail.WithPort(o.Port)(c); err != nil {
		return nil, err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("mail: connect to %s:%d: %w", o.Host, o.Port, err)
	}
	s.mu.Lock()
	s.dials++
	s.mu.Unlock()
	sc.client = c
	return c, nil
}

func (sc *smtpConn) drop() {
	if sc.client != nil {
		_ = sc.client.Close()
		sc.client = nil
	}
}

// Close ends the connections (QUIT); the sender may be used again after.
func (s *Sender) Close() error {
	var errs []error
	for range s.opts.Connections {
		sc := <-s.pool
		if sc.client != nil {
			errs = append(errs, sc.client.Close())
			sc.client = nil
		}
		defer func() { s.pool <- sc }()
	}
	return errors.Join(errs...)
}

// Send delivers one message, retrying temporary failures with backoff.
// A permanent refusal returns a *DeliveryError with Permanent set at once.
func (s *Sender) Send(ctx context.Context, m Message) (Result, error) {
	g, err := m.msg()
	if err != nil {
		return Result{}, &DeliveryError{To: m.To, Permanent: true, Err: err}
	}
	var sc *smtpConn
	select {
	case sc = <-s.pool:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { s.pool <- sc }()
	var last error
	code := 0
	for attempt := 1; attempt <= s.opts.Retries+1; attempt++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				return Result{}, err
			}
		}
		c, err := s.connect(ctx, sc)
		if err == nil {
			err = c.Send(g)
		}
		if err == nil {
			return Result{Attempts: attempt, Reply: "250 accepted as <" + m.MessageID + ">"}, nil
		}
		last = err
		permanent, c2 := classify(err)
		code = c2
		if permanent {
			// The connection is still good after a refusal; reset it.
			if sc.client != nil && sc.client.Reset() != nil {
				sc.drop()
			}
			return Result{}, &DeliveryError{To: m.To, Permanent: true, Code: code, Attempts: attempt, Err: err}
		}
		sc.drop()
		if attempt <= s.opts.Retries {
			wait := s.opts.Backoff << (attempt - 1)
			s.log.Warn("mail: temporary failure, retrying", "to", m.To, "attempt", attempt, "wait", wait, "err", err)
			if err := s.opts.Sleep(ctx, wait); err != nil {
				return Result{}, err
			}
		}
	}
	return Result{}, &DeliveryError{To: m.To, Code: code, Attempts: s.opts.Retries + 1, Err: last}
}

// classify says whether err is a permanent (5xx) refusal, and its code.
func classify(err error) (permanent bool, code int) {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code = se.ErrorCode()
		if code >= 500 && code < 600 {
			return true, code
		}
		if code >= 400 && code < 500 {
			return false, code
		}
		return !se.IsTemp() && code != 0, code
	}
	return false, 0
}

// deadlineConn gives every read and write its own deadline, so a server
// that stops answering mid-transaction is a timeout.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}
