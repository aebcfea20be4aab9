package auth

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	const token = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567"
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"long enough", "twelve chars", true},
		{"unicode counts characters", "ääääääääääää", true},
		{"too short", "eleven char", false},
		{"empty", "", false},
		{"too long", strings.Repeat("x", MaxPasswordLen+1), false},
		{"invalid utf-8", "twelve chars\xff", false},
		{"control character", "twelve\nchars", false},
		{"the setup token", token, false},
		{"the setup token retyped", "abcdefghijklmnopqrstuvwxyz234567", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.password, token)
			if (err == nil) != tc.ok {
				t.Errorf("CheckPassword(%q) = %v, want ok=%v", tc.password, err, tc.ok)
			}
		})
	}
}
