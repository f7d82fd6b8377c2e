package sqlfuncs

import (
	"strings"
	"testing"
	"time"
)

// TestRotationDue: by age, on request, for a broken mapping, and for an age
// that a hand edit of the owner's comment removed or put in the future.
func TestRotationDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	month := 30 * 24 * time.Hour
	current := func(since time.Time) LoopbackLogin { return LoopbackLogin{State: MappingCurrent, Since: since} }
	for _, c := range []struct {
		name string
		r    Rotation
		l    LoopbackLogin
		want string // part of the reason; "" for not due
	}{
		{"young", Rotation{MaxAge: month}, current(now.Add(-24 * time.Hour)), ""},
		{"old", Rotation{MaxAge: month}, current(now.Add(-month - time.Hour)), "older than 720h"},
		{"never by age", Rotation{}, current(now.Add(-10 * month)), ""},
		{"asked for", Rotation{Force: true}, current(now), "asked for"},
		{"broken mapping", Rotation{}, LoopbackLogin{State: MappingDiffers}, "the mapping is"},
		{"server clock a little ahead", Rotation{MaxAge: month}, current(now.Add(2 * time.Minute)), ""},
		{"age in the future", Rotation{MaxAge: month}, current(now.Add(365 * 24 * time.Hour)), "is in the future"},
		{"age not recorded", Rotation{MaxAge: month}, current(time.Time{}), "not recorded"},
	} {
		got := c.r.Due(c.l, now)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: Due = %q, want %q", c.name, got, c.want)
		}
	}
}
