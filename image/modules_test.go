package image

import (
	"encoding/binary"
	"testing"
)

// signed appends a signature trailer the way the kernel's sign-file
// does: the signature, struct module_signature, then the magic.
func signed(body, sig string) []byte {
	info := make([]byte, moduleSigInfoLen)
	info[2] = 2 // PKEY_ID_PKCS7
	binary.BigEndian.PutUint32(info[8:], uint32(len(sig)))
	out := append([]byte(body+sig), info...)
	return append(out, moduleSigMagic...)
}

func TestStripSignature(t *testing.T) {
	tooLong := signed("ELF", "sig")
	binary.BigEndian.PutUint32(tooLong[len(tooLong)-len(moduleSigMagic)-4:], 1000)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"signed", signed("\x7fELF module body", "PKCS7 signature bytes"), "\x7fELF module body"},
		{"unsigned", []byte("\x7fELF module body"), "\x7fELF module body"},
		{"empty", nil, ""},
		{"magic alone", []byte(moduleSigMagic), moduleSigMagic},
		{"signature longer than the file", tooLong, string(tooLong)},
	} {
		if got := string(StripSignature(tc.in)); got != tc.want {
			t.Errorf("%s: StripSignature = %q, want %q", tc.name, got, tc.want)
		}
	}
}
