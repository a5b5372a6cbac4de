package export

import (
	"strings"
	"unicode"
)

// Name is an author as the citation formats want it: a person's family and
// given names (and suffix), or an organisation's name as one literal.
type Name struct {
	Family, Given, Suffix string
	// Literal is set for an organisation (or a one-word name): written
	// whole, never split or inverted.
	Literal string
}

// IsLiteral reports whether the name is written whole.
func (n Name) IsLiteral() bool { return n.Literal != "" }

// Display is the name as a reader writes it: "Jane Smith Jr", or the
// literal.
func (n Name) Display() string {
	if n.IsLiteral() {
		return n.Literal
	}
	return strings.Join(nonEmpty(n.Given, n.Family, n.Suffix), " ")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// orgWords are words that make an author an organisation (compared in
// lower case, whole words).
var orgWords = map[string]bool{
	"centre": true, "center": true, "fund": true, "trust": true, "nhs": true, "voices": true,
	"service": true, "services": true, "foundation": true, "institute": true, "institution": true,
	"university": true, "council": true, "department": true, "group": true, "network": true,
	"society": true, "association": true, "college": true, "commission": true, "agency": true,
	"alliance": true, "partnership": true, "office": true, "committee": true, "board": true,
	"ministry": true, "government": true, "charity": true, "coalition": true, "consortium": true,
	"collaboration": true, "collaborative": true, "forum": true, "unit": true, "team": true,
	"hospital": true, "clinic": true, "federation": true, "confederation": true, "ltd": true,
	"limited": true, "inc": true, "plc": true, "llp": true, "cic": true, "uk": true,
	"england": true, "scotland": true, "wales": true, "ireland": true, "britain": true,
	"royal": true, "national": true, "international": true, "academy": true, "authority": true,
	"parliament": true, "programme": true, "program": true, "project": true, "initiative": true,
	"campaign": true, "observatory": true, "consultancy": true, "company": true, "press": true,
	"news": true, "media": true, "staff": true, "editors": true, "editorial": true, "elf": true,
	"mind": true, "rethink": true, "samaritans": true, "healthwatch": true, "nice": true,
	"nihr": true, "cqc": true, "ohid": true, "ons": true, "who": true, "oecd": true,
	// Connectives that appear in organisations' names, not persons'.
	"of": true, "for": true, "and": true, "&": true, "the": true, "on": true, "in": true,
}

// honorifics are dropped from the front of a personal name.
var honorifics = map[string]bool{
	"dr": true, "prof": true, "professor": true, "mr": true, "mrs": true, "ms": true, "miss": true,
	"mx": true, "sir": true, "dame": true, "lord": true, "lady": true, "baroness": true,
	"baron": true, "rev": true, "revd": true, "reverend": true, "cllr": true, "councillor": true,
	"rt": true, "hon": true,
}

// suffixes are kept as a personal name's suffix.
var suffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true}

// postNominals are letters after a name, dropped from it.
var postNominals = map[string]bool{
	"obe": true, "mbe": true, "cbe": true, "dbe": true, "kbe": true, "frs": true, "phd": true,
	"dphil": true, "md": true, "mbbs": true, "mbchb": true, "frcp": true, "frcpsych": true,
	"mrcpsych": true, "frcgp": true, "mrcgp": true, "rmn": true, "rgn": true, "bsc": true,
	"msc": true, "ma": true, "mphil": true, "frcn": true, "fmedsci": true, "frsa": true,
}

// particles join the family name: "Ludwig van Beethoven" has the family
// name "van Beethoven".
var particles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "del": true, "della": true,
	"di": true, "da": true, "du": true, "des": true, "le": true, "la": true, "ter": true,
	"ten": true, "dos": true, "das": true, "do": true, "st": true, "st.": true, "bin": true,
	"ibn": true, "al": true, "el": true, "mac": true, "op": true, "'t": true,
}

// SplitName reads an author as the items store it, a display string
// ("Helen Gilburt", "Dr Jane Smith", "Smith, Jane", "Centre for Mental
// Health"), into a Name. An organisation stays literal: a name with a word
// such as Centre, Fund, Trust, NHS, Voices, Service, Foundation, Institute,
// University, Council, Department, Group, Network, Society or Association
// (and others: see orgWords), with "of", "for", "and" or a digit, of more
// than four words, or of one word only. A person's family name is the last
// word with any particles before it (van, de, von, …); leading honorifics
// (Dr, Prof, …) and trailing post-nominals (OBE, PhD, …) are dropped; Jr,
// Sr, II, III are the suffix. "Last, First" is read as such.
func SplitName(s string) Name {
	s = clean(s, MaxTerm)
	if s == "" {
		return Name{}
	}
	words := strings.Fields(s)
	if isOrganisation(words) {
		return Name{Literal: s}
	}
	// "Smith, Jane" and "Smith, Jane, Jr"; a comma before a suffix or
	// letters ("Jane Smith, PhD") is dropped.
	if strings.Contains(s, ",") {
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		for len(parts) > 1 && (postNominals[key(parts[len(parts)-1])] || parts[len(parts)-1] == "") {
			parts = parts[:len(parts)-1]
		}
		switch {
		case len(parts) == 1:
			return splitWords(strings.Fields(parts[0]), s)
		case len(parts) == 2 && suffixes[key(parts[1])]:
			n := splitWords(strings.Fields(parts[0]), s)
			if !n.IsLiteral() {
				n.Suffix = parts[1]
			}
			return n
		case len(parts) <= 3 && parts[0] != "" && parts[1] != "":
			n := Name{Family: parts[0], Given: strings.Join(dropHonorifics(strings.Fields(parts[1])), " ")}
			if len(parts) == 3 {
				n.Suffix = parts[2]
			}
			if n.Given == "" {
				n.Given = parts[1]
			}
			return n
		}
		return Name{Literal: s}
	}
	return splitWords(words, s)
}

// splitWords splits a personal name written "Given Family": whole is the
// name as written, kept literal when nothing is left to split.
func splitWords(words []string, whole string) Name {
	words = dropHonorifics(words)
	var n Name
	for len(words) > 1 {
		last := key(words[len(words)-1])
		switch {
		case postNominals[last]:
			words = words[:len(words)-1]
			continue
		case suffixes[last] && n.Suffix == "" && len(words) > 2:
			n.Suffix = words[len(words)-1]
			words = words[:len(words)-1]
			continue
		}
		break
	}
	if len(words) < 2 {
		if len(words) == 1 && len(strings.Fields(whole)) > 1 {
			// "Dr Smith": a family name alone.
			n.Family = words[0]
			return n
		}
		return Name{Literal: whole}
	}
	i := len(words) - 1 // start of the family name
	for i > 1 && particles[strings.ToLower(words[i-1])] {
		i--
	}
	n.Family = strings.Join(words[i:], " ")
	n.Given = strings.Join(words[:i], " ")
	return n
}

func dropHonorifics(words []string) []string {
	for len(words) > 1 && honorifics[key(words[0])] {
		words = words[1:]
	}
	return words
}

// key is a word in lower case without dots: "Dr." is "dr".
func key(w string) string { return strings.ToLower(strings.Trim(w, ".")) }

func isOrganisation(words []string) bool {
	if len(words) <= 1 || len(words) > 4 {
		return true
	}
	for _, w := range words {
		k := strings.ToLower(strings.Trim(w, ".,;:()'’\"“”"))
		if orgWords[k] || strings.HasSuffix(k, "'s") || strings.HasSuffix(k, "’s") {
			return true
		}
		for _, r := range w {
			if unicode.IsDigit(r) || r == '@' || r == '/' || r == '&' {
				return true
			}
		}
	}
	return false
}

// names splits an item's authors, dropping empty and repeated ones.
func names(authors []string) []Name {
	var out []Name
	seen := map[Name]bool{}
	for _, a := range authors {
		if len(out) == maxList {
			break
		}
		n := SplitName(a)
		if n == (Name{}) || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
