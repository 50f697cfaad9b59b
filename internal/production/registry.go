package production

import (
	"crypto/rand"
	"time"
)

// Handlers returns every handler, keyed by the catalog's handler name.
// now is the fallback clock for jobs that carry no time of their own.
func Handlers(lms LMS, store InstanceStore, now func() time.Time) map[string]Handler {
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	b := base{lms: lms, store: store, now: now}
	hs := []Handler{
		&enrol{b}, &assignRole{b}, &extension{b}, &session{b}, &seatsPack{b},
		&credits{b}, &quizAttempts{b}, &certificate{b}, &licence{base: b, random: rand.Read},
		&category{b}, &courseSpace{b},
	}
	m := make(map[string]Handler, len(hs))
	for _, h := range hs {
		m[h.Name()] = h
	}
	return m
}
