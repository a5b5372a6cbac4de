package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/evidencetracker/evidence"
)

// DefaultFile is read when no --config is given and it exists.
const DefaultFile = "evidence.yaml"

// LoadOptions says where configuration comes from.
type LoadOptions struct {
	// File is the YAML file given with --config. Empty: DefaultFile in the
	// working directory if present, else the built-in defaults alone.
	File string
	// Flags maps config keys to the command-line flags that override them
	// (a flag overrides only when it was set).
	Flags map[string]*pflag.Flag
	// Environ lists KEY=VALUE pairs to scan for EVIDENCE_* variables that
	// name no key (reported by Loaded.Warnings). Nil: os.Environ().
	Environ []string
}

// Loaded is a loaded configuration and where it came from.
type Loaded struct {
	Config *Config
	// File is the YAML file merged over the defaults ("" for none).
	File string
	// Warnings are problems that do not stop a run, such as an EVIDENCE_*
	// variable that matches no key.
	Warnings []string
}

// FieldError is one mistake in the configuration, named by its key.
type FieldError struct {
	Key string // dotted key, e.g. "sources.mental-elf.include[1]"
	Msg string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Msg }

// Errors is every mistake found; it matches evidence.ErrInvalid.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "config: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, evidence.ErrInvalid) true.
func (es Errors) Is(target error) bool { return target == evidence.ErrInvalid }

// Load reads the defaults, the YAML file, the environment and the flags,
// decodes them into a Config and validates it. A decoding or validation
// failure returns Errors naming each bad key.
func Load(opts LoadOptions) (*Loaded, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(defaultYAML)); err != nil {
		return nil, fmt.Errorf("config: built-in defaults: %w", err)
	}
	var fileErrs Errors
	file := opts.File
	if file == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: read %s: %w", file, err)
		}
		if err := v.MergeConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("config: parse %s: %w", file, err)
		}
		// Check the file on its own too: viper quietly lets defaults show
		// through a key of the wrong shape, and drops empty mappings.
		var raw map[string]any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("config: parse %s: %w", file, err)
		}
		var scratch Config
		decodeInto(reflect.ValueOf(&scratch).Elem(), raw, "", &fileErrs)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	for key, f := range opts.Flags {
		if f == nil {
			continue
		}
		if err := v.BindPFlag(key, f); err != nil {
			return nil, fmt.Errorf("config: bind flag --%s to %s: %w", f.Name, key, err)
		}
	}

	var cfg Config
	var errs Errors
	decodeInto(reflect.ValueOf(&cfg).Elem(), v.AllSettings(), "", &errs)
	// Validate even after decoding errors, so that one run names every
	// mistake, but skip keys that failed to decode (their zero values would
	// only repeat the complaint).
	failed := map[string]bool{}
	for _, e := range append(fileErrs, errs...) {
		failed[e.Key] = true
	}
	for _, e := range Validate(&cfg) {
		if !failed[e.Key] {
			errs = append(errs, e)
		}
	}
	if all := mergeErrors(fileErrs, errs); len(all) > 0 {
		return nil, all
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	return &Loaded{Config: &cfg, File: file, Warnings: unknownEnv(v, environ)}, nil
}

// mergeErrors joins error lists, dropping repeats.
func mergeErrors(lists ...Errors) Errors {
	var out Errors
	seen := map[FieldError]bool{}
	for _, l := range lists {
		for _, e := range l {
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// unknownEnv lists EVIDENCE_* variables that match no configuration key.
func unknownEnv(v *viper.Viper, environ []string) []string {
	known := map[string]bool{}
	repl := strings.NewReplacer(".", "_", "-", "_")
	for _, k := range v.AllKeys() {
		known[EnvPrefix+"_"+strings.ToUpper(repl.Replace(k))] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix+"_") && !known[name] {
			out = append(out, fmt.Sprintf("environment variable %s matches no configuration key", name))
		}
	}
	sort.Strings(out)
	return out
}

var durationType = reflect.TypeOf(time.Duration(0))

// decodeInto fills dst from raw (as viper gives it), appending a FieldError
// naming the key for every unknown key or value of the wrong kind.
func decodeInto(dst reflect.Value, raw any, path string, errs *Errors) {
	bad := func(format string, a ...any) {
		*errs = append(*errs, FieldError{Key: path, Msg: fmt.Sprintf(format, a...)})
	}
	if dst.Type() == durationType {
		d, err := toDuration(raw)
		if err != nil {
			bad("%v", err)
			return
		}
		dst.SetInt(int64(d))
		return
	}
	switch dst.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			if raw != nil {
				bad("want a mapping of keys, got %s", describe(raw))
			}
			return
		}
		fields := structKeys(dst.Type())
		keys := sortedKeys(m)
		for _, k := range keys {
			idx, ok := fields[k]
			if !ok {
				msg := "unknown key"
				if s := closest(k, fields); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				*errs = append(*errs, FieldError{Key: join(path, k), Msg: msg})
				continue
			}
			decodeInto(dst.Field(idx), m[k], join(path, k), errs)
		}
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			if raw != nil {
				bad("want a mapping, got %s", describe(raw))
			}
			return
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for _, k := range sortedKeys(m) {
			elem := reflect.New(dst.Type().Elem()).Elem()
			decodeInto(elem, m[k], join(path, k), errs)
			out.SetMapIndex(reflect.ValueOf(k), elem)
		}
		dst.Set(out)
	case reflect.Slice:
		var list []any
		switch r := raw.(type) {
		case nil:
		case []any:
			list = r
		case []string:
			for _, s := range r {
				list = append(list, s)
			}
		case string:
			// From an environment variable: comma-separated.
			for _, s := range strings.Split(r, ",") {
				if s = strings.TrimSpace(s); s != "" {
					list = append(list, s)
				}
			}
		default:
			bad("want a list, got %s", describe(raw))
			return
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			decodeInto(out.Index(i), e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
		dst.Set(out)
	case reflect.String:
		switch r := raw.(type) {
		case nil:
		case string:
			dst.SetString(r)
		case int, int64, float64, bool:
			dst.SetString(fmt.Sprint(r))
		default:
			bad("want a string, got %s", describe(raw))
		}
	case reflect.Bool:
		switch r := raw.(type) {
		case nil:
		case bool:
			dst.SetBool(r)
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(r))
			if err != nil {
				bad("want true or false, got %q", r)
				return
			}
			dst.SetBool(b)
		default:
			bad("want true or false, got %s", describe(raw))
		}
	case reflect.Int, reflect.Int64:
		switch r := raw.(type) {
		case nil:
		case int:
			dst.SetInt(int64(r))
		case int64:
			dst.SetInt(r)
		case float64:
			if r != float64(int64(r)) {
				bad("want a whole number, got %v", r)
				return
			}
			dst.SetInt(int64(r))
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
			if err != nil {
				bad("want a whole number, got %q", r)
				return
			}
			dst.SetInt(n)
		default:
			bad("want a whole number, got %s", describe(raw))
		}
	case reflect.Float64:
		switch r := raw.(type) {
		case nil:
		case int:
			dst.SetFloat(float64(r))
		case int64:
			dst.SetFloat(float64(r))
		case float64:
			dst.SetFloat(r)
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
			if err != nil {
				bad("want a number, got %q", r)
				return
			}
			dst.SetFloat(f)
		default:
			bad("want a number, got %s", describe(raw))
		}
	default:
		bad("unsupported field kind %s", dst.Kind())
	}
}

func toDuration(raw any) (time.Duration, error) {
	switch r := raw.(type) {
	case nil:
		return 0, nil
	case time.Duration:
		return r, nil
	case string:
		s := strings.TrimSpace(r)
		if s == "" {
			return 0, nil
		}
		// Go durations stop at hours; people write days.
		if n, ok := strings.CutSuffix(s, "d"); ok {
			if days, err := strconv.ParseFloat(n, 64); err == nil {
				return time.Duration(days * float64(24*time.Hour)), nil
			}
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want a duration like 30s, 5m, 6h or 2d, got %q", r)
		}
		return d, nil
	case int, int64, float64:
		if fmt.Sprint(r) == "0" {
			return 0, nil
		}
		return 0, fmt.Errorf("want a duration with a unit (like 30s), got %v", r)
	default:
		return 0, fmt.Errorf("want a duration like 30s, got %s", describe(raw))
	}
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	default:
		return fmt.Sprintf("%v", v)
	}
}

// structKeys maps each `key` tag of t to its field index.
func structKeys(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("key"); k != "" {
			m[k] = i
		}
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the known key nearest to k, if it is close enough to be a
// likely typo.
func closest(k string, known map[string]int) string {
	best, bestD := "", 3
	for cand := range known {
		if d := editDistance(k, cand); d < bestD || (d == bestD && best != "" && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
