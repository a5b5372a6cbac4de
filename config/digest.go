package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// validateDigest checks the digest keys.
func validateDigest(add func(key, format string, a ...any), d Digest) {
	if strings.TrimSpace(d.Title) == "" {
		add("digest.title", "must not be empty")
	}
	if strings.TrimSpace(d.Timezone) == "" {
		add("digest.timezone", "must not be empty (an IANA zone such as Europe/London)")
	} else if _, err := time.LoadLocation(d.Timezone); err != nil {
		add("digest.timezone", "%q is not a known time zone: %v", d.Timezone, err)
	}
	if d.MaxAge <= 0 {
		add("digest.max_age", "must be more than 0")
	}
	if err := CheckCron(d.Schedule); err != nil {
		add("digest.schedule", "%q: %v", d.Schedule, err)
	}
	if d.Templates != "" {
		if fi, err := os.Stat(d.Templates); err != nil || !fi.IsDir() {
			add("digest.templates", "%q is not a directory of templates", d.Templates)
		}
	}
	if d.BounceLimit < 1 {
		add("digest.bounce_limit", "must be at least 1, got %d", d.BounceLimit)
	}
}

// cronFields names the five fields of a cron spec and their ranges.
var cronFields = [5]struct {
	name     string
	min, max int
	names    []string
}{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{"day of week", 0, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// CheckCron checks the shape of a standard 5-field cron spec (minute hour
// day-of-month month day-of-week): each field *, a number or name in range,
// a range a-b, a list a,b and an optional /step. It says which field is
// wrong. The descriptors @hourly, @daily, @weekly, @monthly, @yearly and
// "@every DURATION" are accepted too.
func CheckCron(spec string) error {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "@") {
		name, arg, _ := strings.Cut(spec, " ")
		switch name {
		case "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually":
			if strings.TrimSpace(arg) != "" {
				return fmt.Errorf("%s takes nothing after it", name)
			}
			return nil
		case "@every":
			d, err := time.ParseDuration(strings.TrimSpace(arg))
			if err != nil || d < time.Second {
				return fmt.Errorf("@every wants a duration of at least 1s, like @every 168h")
			}
			return nil
		}
		return fmt.Errorf("unknown descriptor %s (use @hourly, @daily, @weekly, @monthly, @yearly or @every DURATION)", name)
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(fields))
	}
	for i, f := range fields {
		cf := cronFields[i]
		for _, part := range strings.Split(f, ",") {
			if err := checkCronPart(part, cf.min, cf.max, cf.names); err != nil {
				return fmt.Errorf("%s field %q: %v", cf.name, f, err)
			}
		}
	}
	return nil
}

func checkCronPart(part string, lo, hi int, names []string) error {
	rng, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 {
			return fmt.Errorf("step %q is not a positive number", step)
		}
	}
	if rng == "*" {
		return nil
	}
	a, b, isRange := strings.Cut(rng, "-")
	val := func(s string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				if lo == 1 {
					return i + 1, nil
				}
				return i, nil
			}
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("%d is out of range %d-%d", n, lo, hi)
		}
		return n, nil
	}
	x, err := val(a)
	if err != nil {
		return err
	}
	if isRange {
		y, err := val(b)
		if err != nil {
			return err
		}
		if y < x {
			return fmt.Errorf("range %s runs backwards", rng)
		}
	}
	return nil
}
