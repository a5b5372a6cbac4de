// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) in
// the process, on 127.0.0.1 only, for tests and benchmarks of mail
// delivery: it records every message it accepts and can be told to refuse,
// defer, stall or drop a connection at any stage.
package smtptest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage is the point of an SMTP transaction a fault applies to.
type Stage string

// Stages a Fault may name.
const (
	StageConnect Stage = "connect" // the session is refused before any command
	StageMail    Stage = "mail"    // MAIL FROM
	StageRcpt    Stage = "rcpt"    // RCPT TO
	StageData    Stage = "data"    // after the message body was read
)

// Action is what a fault does.
type Action int

// Actions.
const (
	Reply Action = iota // answer with Code and Message
	Drop                // close the connection (in DATA: half-way through the body)
	Stall               // answer nothing until the server is closed
)

// Fault describes one failure. It applies to the transaction stage and,
// when To is set, only to that recipient; Times bounds how often it fires
// (0: always).
type Fault struct {
	Stage   Stage
	To      string
	Action  Action
	Code    int // 421, 451, 550, …
	Message string
	Times   int

	fired int
}

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Options tune the server.
type Options struct {
	// Username and Password, when set, are required (AUTH PLAIN over the
	// plain connection: the server is for loopback tests).
	Username, Password string
	// Discard keeps only counts, not message bodies (for benchmarks).
	Discard bool
	// Hook, if set, is called at each MAIL FROM and after each message
	// body is read (before the reply), with how many times that stage has
	// been reached so far (1, 2, …); a non-nil error is the reply. Tests
	// use it to kill a sender at an exact point.
	Hook func(stage Stage, n int) error
}

// Server is a running SMTP server.
type Server struct {
	Addr string

	srv    *smtp.Server
	opts   Options
	mu     sync.Mutex
	msgs   []Message
	count  int
	conns  int
	faults []*Fault
	stages map[Stage]int
	l      net.Listener
	closed chan struct{}
	done   chan struct{}
}

// Start listens on a free port of 127.0.0.1 and serves until Close.
func Start(opts Options) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtptest: listen: %w", err)
	}
	s := &Server{Addr: l.Addr().String(), l: l, opts: opts, closed: make(chan struct{}), done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// Close stops the server at once, ending open sessions (stalled ones too).
func (s *Server) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
	}
	close(s.closed)
	err := s.srv.Close()
	// Serve may not have registered the listener yet: close it here too.
	_ = s.l.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Host and Port split Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the port Addr listens on.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	var n int
	fmt.Sscanf(p, "%d", &n)
	return n
}

// AddFault adds a failure; faults are tried in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Messages returns a copy of the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Count is the number of accepted messages (also with Discard).
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Connections is the number of sessions opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) hook(stage Stage) error {
	if s.opts.Hook == nil {
		return nil
	}
	s.mu.Lock()
	if s.stages == nil {
		s.stages = map[Stage]int{}
	}
	s.stages[stage]++
	n := s.stages[stage]
	s.mu.Unlock()
	return s.opts.Hook(stage, n)
}

func (s *Server) fault(stage Stage, to string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Stage != stage || (f.To != "" && f.To != to) || (f.Times > 0 && f.fired >= f.Times) {
			continue
		}
		f.fired++
		c := *f
		return &c
	}
	return nil
}

func (s *Server) apply(f *Fault, c *smtp.Conn) error {
	switch f.Action {
	case Drop:
		_ = c.Conn().Close()
		return errors.New("smtptest: connection dropped")
	case Stall:
		<-s.closed
		return &smtp.SMTPError{Code: 421, Message: "shutting down"}
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("smtptest fault %d", f.Code)
	}
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	if f := s.fault(StageConnect, ""); f != nil {
		if f.Action == Reply {
			// A server turning clients away answers and hangs up.
			fmt.Fprintf(c.Conn(), "%d %s\r\n", f.Code, cmp.Or(f.Message, "smtptest: not now"))
			_ = c.Conn().Close()
			return nil, errors.New("smtptest: session refused")
		}
		return nil, s.apply(f, c)
	}
	return &session{s: s, c: c}, nil
}

type session struct {
	s      *Server
	c      *smtp.Conn
	from   string
	to     []string
	authed bool
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{"PLAIN"}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	if f := ss.s.fault(StageMail, ""); f != nil {
		return ss.s.apply(f, ss.c)
	}
	if err := ss.s.hook(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.s.fault(StageRcpt, to); f != nil {
		return ss.s.apply(f, ss.c)
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var to string
	if len(ss.to) > 0 {
		to = ss.to[0]
	}
	if f := ss.s.fault(StageData, to); f != nil {
		if f.Action == Drop {
			// Read part of the body first: the client is mid-DATA.
			_, _ = io.CopyN(io.Discard, r, 512)
		} else {
			_, _ = io.Copy(io.Discard, r)
		}
		return ss.s.apply(f, ss.c)
	}
	var buf bytes.Buffer
	if ss.s.opts.Hook != nil {
		body, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if err := ss.s.hook(StageData); err != nil {
			return err
		}
		r = bytes.NewReader(body)
	}
	if ss.s.opts.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.count++
	if !ss.s.opts.Discard {
		ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: slices.Clone(ss.to), Data: buf.Bytes()})
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }
