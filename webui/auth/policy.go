package auth

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Password policy. Length is the only rule that measurably helps (NIST SP
// 800-63B); composition rules just produce Passw0rd!-style passwords.
const (
	MinPasswordLen = 12   // characters
	MaxPasswordLen = 1024 // bytes; argon2id hashes any length, forms must not
)

// CheckPassword reports why password is not acceptable as the admin
// password, or nil. setupToken is the token being redeemed: reusing it as
// the password would leave the password on the console.
func CheckPassword(password, setupToken string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return errors.New("password is not valid UTF-8")
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("password is longer than %d bytes", MaxPasswordLen)
	case n < MinPasswordLen:
		return fmt.Errorf("password has %d characters; at least %d are needed", n, MinPasswordLen)
	case hasControl(password):
		return errors.New("password contains control characters")
	case setupToken != "" && NormalizeSetupToken(password) == NormalizeSetupToken(setupToken):
		return errors.New("password must not be the setup token")
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
