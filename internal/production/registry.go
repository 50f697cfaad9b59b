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
	b := func(name string) base { return base{name: name, lms: lms, store: store, now: now} }
	hs := []Handler{
		&enrol{b("enrol")}, &assignRole{b("assignrole")}, &extension{b("extension")},
		&session{b("session")}, &seatsPack{b("seatspack")}, &credits{b("credits")},
		&quizAttempts{b("quizattempts")}, &certificate{b("certificate")},
		&licence{base: b("licence"), random: rand.Read}, &category{b("category")},
		&courseSpace{b("coursespace")},
	}
	m := make(map[string]Handler, len(hs))
	for _, h := range hs {
		m[h.Name()] = h
	}
	return m
}
