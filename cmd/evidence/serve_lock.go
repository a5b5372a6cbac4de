package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// serveLockName is the file a running serve holds locked (flock) in the
// data dir; it says who holds it.
const serveLockName = "serve.lock"

// serveOwner is what the lock file says.
type serveOwner struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Addr    string    `json:"addr"`
	Started time.Time `json:"started"`
}

type serveLock struct{ f *os.File }

// errServeRunning means another serve holds the data dir.
var errServeRunning = errors.New("the data dir is held by a running evidence serve")

// acquireServeLock takes the data dir for this process, or says which
// process has it. The lock is the kernel's (flock): it ends with the
// process, however it ends, so a crash leaves no stale lock.
func acquireServeLock(dataDir, addr string, now time.Time) (*serveLock, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("serve: data dir %s: %w", dataDir, err)
	}
	p := filepath.Join(dataDir, serveLockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("serve: lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var o serveOwner
			b, _ := os.ReadFile(p)
			if json.Unmarshal(b, &o) == nil && o.PID > 0 {
				return nil, fmt.Errorf("%w: pid %d (%s), serving %s since %s; stop it first (kill -TERM %d)",
					errServeRunning, o.PID, o.Command, o.Addr, o.Started.Local().Format("2 Jan 2006 15:04"), o.PID)
			}
			return nil, fmt.Errorf("%w (%s)", errServeRunning, p)
		}
		return nil, fmt.Errorf("serve: lock %s: %w", p, err)
	}
	b, _ := json.Marshal(serveOwner{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Addr: addr, Started: now.UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &serveLock{f: f}, nil
}

// release empties the lock file and unlocks it.
func (l *serveLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
