package evidence

import "slices"

// ItemTypes returns the item types in the order the Type* constants are
// declared: blog, report, briefing, long-read, news, press-release, article,
// data, podcast, publication. Each call returns a fresh slice the caller may
// change.
func ItemTypes() []string {
	return []string{
		TypeBlog, TypeReport, TypeBriefing, TypeLongRead, TypeNews,
		TypePressRelease, TypeArticle, TypeData, TypePodcast, TypePublication,
	}
}

// IsItemType reports whether t is one of the item types (exact match).
func IsItemType(t string) bool { return slices.Contains(ItemTypes(), t) }
