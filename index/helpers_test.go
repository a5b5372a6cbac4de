package index

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// IDs of the test corpus, named for what the items are about.
const (
	idSocialOlder   = "social-older"
	idSocialGP      = "social-gp"
	idLinkWorkers   = "link-workers"
	idChildrenMH    = "children-mh"
	idPeerSupport   = "peer-support"
	idWaitingTimes  = "waiting-times"
	idMHAct         = "mh-act"
	idExercise      = "exercise"
	idLoneliness    = "loneliness"
	idWorkforce     = "workforce"
	idApps          = "apps"
	idHousing       = "housing"
	idHostile       = "hostile"
	idCrisis        = "crisis"
	idSchizophrenia = "schizophrenia"
)

func day(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// corpus returns fifteen realistic items about mental health. Only the three
// social prescribing items mention "prescribing"; only idSocialOlder and
// idLoneliness mention "older people".
func corpus(t testing.TB) []evidence.Item {
	t.Helper()
	mk := func(id, source, typ, title, summary, body string, authors []string, published *time.Time, firstSeen string) evidence.Item {
		it := evidence.Item{
			ID:        id,
			Source:    source,
			Type:      typ,
			Title:     title,
			URL:       "https://example.org/" + id,
			Published: published,
			FirstSeen: *day(firstSeen),
			Authors:   authors,
			Summary:   summary,
			Body:      body,
			Topics:    []string{"mental-health"},
		}
		it.ContentHash = evidence.ComputeHash(&it)
		return it
	}
	const (
		elf    = evidence.SourceMentalElf
		kings  = evidence.SourceKingsFund
		centre = evidence.SourceCentreForMH
	)
	return []evidence.Item{
		mk(idSocialOlder, kings, evidence.TypeReport,
			"Social prescribing for older people: what works",
			"A review of social prescribing schemes for older people, looking at loneliness, link workers and what commissioners can learn from local evaluations.",
			"Social prescribing connects people to community groups, arts and gardening. Schemes that work well have stable funding and trusted link workers.",
			[]string{"Jane Smith", "Ravi Patel"}, day("2024-03-12"), "2024-03-13"),
		mk(idSocialGP, elf, evidence.TypeBlog,
			"Does social prescribing reduce GP visits? A systematic review",
			"This blog appraises a systematic review asking whether social prescribing reduces demand on general practice.",
			"The review included twelve studies. Effects on GP attendance were small and uncertain, and most studies were at high risk of bias.",
			[]string{"Tom Oliver"}, day("2024-02-20"), "2024-02-21"),
		mk(idLinkWorkers, kings, evidence.TypeLongRead,
			"Link workers in primary care",
			"How primary care networks are using link workers, and what it takes for the role to succeed.",
			"Link workers were introduced to help GPs prescribe non-medical support. Social prescribing link workers report heavy caseloads and unclear referral routes.",
			[]string{"Anna Charles"}, day("2023-11-20"), "2023-11-20"),
		mk(idChildrenMH, centre, evidence.TypeReport,
			"Mental health of children and young people in England",
			"Rates of probable mental disorder among children and young people remain higher than before the pandemic.",
			"One in five children and young people aged 8 to 25 had a probable mental disorder. Schools report rising demand for counselling.",
			[]string{"Sarah Hughes"}, day("2023-11-21"), "2023-11-22"),
		mk(idPeerSupport, elf, evidence.TypeBlog,
			"Peer support for people with severe mental illness",
			"A trial of peer support workers on discharge from inpatient care found fewer readmissions.",
			"Peer workers with lived experience met participants weekly for four months after discharge.",
			[]string{"Rachel Lee"}, day("2024-01-15"), "2024-01-15"),
		mk(idWaitingTimes, kings, evidence.TypeData,
			"Waiting times for talking therapies: the data",
			"Most people referred to NHS Talking Therapies start treatment within six weeks, but many wait longer for a second appointment.",
			"Hidden waits between first and second appointments are longest for people with complex needs.",
			[]string{"Helen Buckingham"}, day("2024-04-02"), "2024-04-03"),
		mk(idMHAct, centre, evidence.TypeBriefing,
			"Racial inequalities in use of the Mental Health Act",
			"Black people are more than three times as likely to be detained under the Mental Health Act as white people.",
			"The briefing sets out the evidence on detention rates and community treatment orders, and what reform of the Act should change.",
			[]string{"Andy Bell"}, day("2023-06-05"), "2023-06-06"),
		mk(idExercise, elf, evidence.TypeBlog,
			"Exercise for depression: a network meta-analysis",
			"Walking, jogging, yoga and strength training all reduced symptoms of depression compared with usual care.",
			"The network meta-analysis pooled more than two hundred trials. Effects were larger for more intense exercise.",
			[]string{"Mark Jones"}, day("2024-05-10"), "2024-05-10"),
		mk(idLoneliness, centre, evidence.TypeReport,
			"Loneliness and mental health in later life",
			"Loneliness among older people is linked to depression, and community connection can help.",
			"Bereavement, retirement and poor physical health all raise the risk of loneliness in later life.",
			[]string{"Jane Smith"}, day("2022-10-10"), "2022-10-11"),
		mk(idWorkforce, kings, evidence.TypeLongRead,
			"Workforce pressures in NHS mental health services",
			"Vacancies in mental health nursing remain high, and staff report burnout and moral injury.",
			"Trusts are relying on agency staff. Retention schemes and flexible working show some promise.",
			[]string{"Siva Anandaciva"}, day("2023-09-01"), "2023-09-01"),
		mk(idApps, elf, evidence.TypeBlog,
			"Digital mental health apps for anxiety: do they work?",
			"A meta-analysis of smartphone apps for anxiety finds small benefits that fade after a few months.",
			"Engagement with apps dropped sharply after the first fortnight; apps with human support kept users longer.",
			[]string{"Chris Davies"}, day("2024-06-18"), "2024-06-18"),
		mk(idHousing, centre, evidence.TypeBriefing,
			"Housing and mental health: a briefing for commissioners",
			"Secure, affordable housing is a foundation of good mental health; the briefing sets out what commissioners can do.",
			"Supported housing helps people leave hospital sooner. Evictions and overcrowding harm mental health.",
			[]string{"Kadra Abdinasir"}, day("2024-02-20"), "2024-02-22"),
		mk(idHostile, elf, evidence.TypeNews,
			`Hostile <script>alert(1)</script> title about anxiety & "quotes"`,
			"An item whose summary has <b>markup</b> & ampersands in it.",
			"Nothing to see here.",
			[]string{"Eve Attacker"}, day("2024-01-02"), "2024-01-02"),
		mk(idCrisis, kings, evidence.TypeReport,
			"Crisis care for people in mental health emergencies",
			"People in crisis too often end up in emergency departments; alternatives such as crisis cafes need steady funding.",
			"Crisis lines, home treatment teams and safe havens are patchy across England.",
			[]string{"Helen Buckingham"}, nil, "2024-07-01"),
		mk(idSchizophrenia, centre, evidence.TypeReport,
			"Physical health of people with schizophrenia",
			"People with schizophrenia die on average fifteen to twenty years earlier than the general population.",
			"Annual physical health checks are often incomplete, and smoking cessation support is rarely offered.",
			[]string{"Andy Bell"}, day("2021-03-03"), "2021-03-04"),
	}
}

// newestOrder is the corpus sorted published desc, then first_seen desc;
// the undated item comes last.
var newestOrder = []string{
	idApps,          // 2024-06-18
	idExercise,      // 2024-05-10
	idWaitingTimes,  // 2024-04-02
	idSocialOlder,   // 2024-03-12
	idHousing,       // 2024-02-20, first seen 02-22
	idSocialGP,      // 2024-02-20, first seen 02-21
	idPeerSupport,   // 2024-01-15
	idHostile,       // 2024-01-02
	idChildrenMH,    // 2023-11-21
	idLinkWorkers,   // 2023-11-20
	idWorkforce,     // 2023-09-01
	idMHAct,         // 2023-06-05
	idLoneliness,    // 2022-10-10
	idSchizophrenia, // 2021-03-03
	idCrisis,        // undated
}

// openTemp opens a new index in a temporary directory and closes it at the
// end of the test.
func openTemp(t testing.TB, batch int) (*Index, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index")
	x, err := Open(t.Context(), Options{Path: path, BatchSize: batch})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x, path
}

// openCorpus opens a temporary index holding the corpus.
func openCorpus(t testing.TB) *Index {
	t.Helper()
	x, _ := openTemp(t, 4) // small batches, so batching is exercised
	if err := x.Index(t.Context(), corpus(t)); err != nil {
		t.Fatalf("Index: %v", err)
	}
	return x
}
