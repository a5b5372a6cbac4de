package main

// The control channel: while `evidence serve` holds a data dir, the CLI's
// commands on that data dir run inside the server (which has the store and
// the bleve index open), sent over a Unix socket in the data dir. The
// same command code runs, so the output — text or --json — is the same.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// socketName is the control socket in the data dir.
const socketName = "serve.sock"

func socketPath(dataDir string) string { return filepath.Join(dataDir, socketName) }

// controlRequest is what the CLI sends: its arguments, with file paths
// made absolute, and its standard input when a command reads '-'.
type controlRequest struct {
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
}

// controlFrame is one piece of the server's answer.
type controlFrame struct {
	Out  string `json:"o,omitempty"`
	Err  string `json:"e,omitempty"`
	Exit *int   `json:"exit,omitempty"`
}

// localOnly are commands that never go to a server: they do not touch the
// data dir's index, or are the server. users needs only the store (which
// SQLite shares with a running serve) and asks for passwords on this
// terminal, which a server cannot.
var localOnly = map[string]bool{
	"serve": true, "replay": true, "version": true, "config": true, "bench": true, "eval": true,
	"help": true, "completion": true, "__complete": true, "users": true,
}

// pathArgs names, per command, the positional arguments that are files
// (made absolute before forwarding: the server's working directory is
// not the client's).
var pathArgs = map[string][]int{
	"evidence import":             {0},
	"evidence aliases load":       {0},
	"evidence subscribers import": {0},
}

// pathFlags are flags whose values are files or directories.
var pathFlags = map[string]bool{"--out": true, "--dry-run": true, "--file": true, "--note-file": true}

// forwardable reports whether cmd should run inside a server.
func forwardable(cmd *cobra.Command) bool {
	if cmd.Root() == cmd {
		return false
	}
	for c := cmd; c != nil && c.Parent() != nil; c = c.Parent() {
		if c.Parent() == c.Root() {
			return !localOnly[c.Name()]
		}
	}
	return false
}

// forwarded carries a forwarded command's exit status back to run().
type forwarded struct{ code int }

func (f forwarded) Error() string { return fmt.Sprintf("forwarded command exited %d", f.code) }

// dialServer connects to a running serve on dataDir, or returns nil.
func dialServer(dataDir string) net.Conn {
	p := socketPath(dataDir)
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	c, err := net.DialTimeout("unix", p, 2*time.Second)
	if err != nil {
		return nil
	}
	return c
}

// absArgs makes the file arguments of a command line absolute.
func absArgs(cmdPath string, args []string, positional []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	want := map[string]bool{}
	for _, i := range pathArgs[cmdPath] {
		if i < len(positional) && positional[i] != "-" && !strings.Contains(positional[i], "://") {
			want[positional[i]] = true
		}
	}
	for i := 0; i < len(out); i++ {
		a := out[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case pathFlags[name] && hasVal && val != "":
			out[i] = name + "=" + absPath(val)
		case pathFlags[a] && i+1 < len(out):
			out[i+1] = absPath(out[i+1])
			i++
		case want[a]:
			out[i] = absPath(a)
			delete(want, a)
		}
	}
	return out
}

func absPath(p string) string {
	if p == "-" || filepath.IsAbs(p) {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// forward runs the command line inside the server and copies its output.
func (a *app) forward(ctx context.Context, conn net.Conn, cmd *cobra.Command, args []string, stdin io.Reader) (int, error) {
	defer conn.Close()
	req := controlRequest{Args: absArgs(cmd.CommandPath(), args, cmd.Flags().Args())}
	for _, p := range cmd.Flags().Args() {
		if p == "-" && stdin != nil {
			b, err := io.ReadAll(io.LimitReader(stdin, 256<<20))
			if err != nil {
				return exitFailure, fmt.Errorf("read stdin: %w", err)
			}
			req.Stdin = b
		}
	}
	enc := json.NewEncoder(conn)
	if err := enc.Encode(req); err != nil {
		return exitFailure, fmt.Errorf("send to evidence serve: %w", err)
	}
	// Ctrl-C here ends the connection; the server cancels the command.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	dec := json.NewDecoder(bufio.NewReader(conn))
	for {
		var f controlFrame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return exitFailure, ctx.Err()
			}
			return exitFailure, fmt.Errorf("evidence serve stopped answering: %w", err)
		}
		if f.Out != "" {
			io.WriteString(a.stdout, f.Out)
		}
		if f.Err != "" {
			io.WriteString(a.stderr, f.Err)
		}
		if f.Exit != nil {
			return *f.Exit, nil
		}
	}
}

// frameWriter sends what a command writes as frames, one stream each.
type frameWriter struct {
	mu     *sync.Mutex
	enc    *json.Encoder
	stderr bool
}

func (w frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := controlFrame{Out: string(p)}
	if w.stderr {
		f = controlFrame{Err: string(p)}
	}
	if err := w.enc.Encode(f); err != nil {
		return 0, err
	}
	return len(p), nil
}

// controlServer answers the CLI on the data dir's socket.
type controlServer struct {
	l      net.Listener
	path   string
	log    *slog.Logger
	handle func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
	wg     sync.WaitGroup
}

// listenControl removes a stale socket (the caller holds the serve lock,
// so no live server owns it) and listens.
func listenControl(dataDir string, log *slog.Logger, handle func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int) (*controlServer, error) {
	p := socketPath(dataDir)
	if len(p) >= 104 {
		return nil, fmt.Errorf("serve: control socket path %s is %d bytes, longer than Unix sockets allow (103): use a shorter data dir", p, len(p))
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("serve: remove stale control socket %s: %w", p, err)
	}
	old := syscall.Umask(0o177) // the socket is the owner's alone
	l, err := net.Listen("unix", p)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("serve: control socket %s: %w", p, err)
	}
	return &controlServer{l: l, path: p, log: log, handle: handle}, nil
}

func (cs *controlServer) serve(ctx context.Context) {
	for {
		c, err := cs.l.Accept()
		if err != nil {
			return
		}
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			cs.one(ctx, c)
		}()
	}
}

func (cs *controlServer) one(ctx context.Context, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	var req controlRequest
	if err := json.NewDecoder(br).Decode(&req); err != nil {
		cs.log.Warn("control: bad request", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The client going away (Ctrl-C) cancels the command.
	go func() {
		_, _ = io.Copy(io.Discard, br)
		cancel()
	}()
	mu := &sync.Mutex{}
	enc := json.NewEncoder(c)
	cs.log.Info("control: command", "args", strings.Join(req.Args, " "))
	code := cs.handle(ctx, req.Args, strings.NewReader(string(req.Stdin)), frameWriter{mu: mu, enc: enc}, frameWriter{mu: mu, enc: enc, stderr: true})
	mu.Lock()
	_ = enc.Encode(controlFrame{Exit: &code})
	mu.Unlock()
}

// close stops accepting, waits for running commands and removes the socket.
func (cs *controlServer) close() {
	_ = cs.l.Close()
	cs.wg.Wait()
	_ = os.Remove(cs.path)
}
