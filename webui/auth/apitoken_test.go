package auth

import (
	"strings"
	"testing"
	"time"
)

func TestAPITokens(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s1, t1, err := NewAPIToken("backup script", now)
	if err != nil {
		t.Fatal(err)
	}
	s2, t2, _ := NewAPIToken("monitoring", now)
	if !strings.HasPrefix(s1, APITokenPrefix) || len(s1) != len(APITokenPrefix)+43 {
		t.Errorf("secret %q: want %s and 43 base64url characters", s1, APITokenPrefix)
	}
	if strings.Contains(t1.Hash, s1) || t1.ID == t2.ID {
		t.Errorf("stored tokens %+v %+v leak the secret or share an id", t1, t2)
	}
	tokens := []APIToken{t1, t2}
	if got, ok := MatchAPIToken(tokens, s2); !ok || got.ID != t2.ID {
		t.Errorf("MatchAPIToken(s2) = %+v, %v; want %s", got, ok, t2.ID)
	}
	for _, bad := range []string{"", s1 + "x", s1[:len(s1)-1], "Bearer " + s1, t1.Hash, strings.Repeat("x", 1000)} {
		if _, ok := MatchAPIToken(tokens, bad); ok {
			t.Errorf("MatchAPIToken(%q) matched", bad)
		}
	}
}

func TestCheckTokenName(t *testing.T) {
	for name, ok := range map[string]bool{
		"backup":                  true,
		"":                        false,
		"   ":                     false,
		"a\nb":                    false,
		"\xff":                    false,
		strings.Repeat("n", 65):   false,
		strings.Repeat("n", 64):   true,
		"nightly export (réseau)": true,
	} {
		if err := CheckTokenName(name); (err == nil) != ok {
			t.Errorf("CheckTokenName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
