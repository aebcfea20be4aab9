package configsync

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"

	"rampart/config"
)

// Shared returns a copy of c holding only the selected shared sections:
// node-local fields and unselected sections are zero. nil selects every
// shared section.
func Shared(c *config.Config, sections []string) (*config.Config, error) {
	if c == nil {
		return nil, errors.New("configsync: shared: nil config")
	}
	sel, err := selectSections(sections)
	if err != nil {
		return nil, fmt.Errorf("configsync: shared: %w", err)
	}
	v := deepCopy(reflect.ValueOf(c).Elem())
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !isLocal(f) && !sel[yamlName(f)] {
			v.Field(i).SetZero()
		}
	}
	clearLocal(v)
	return v.Addr().Interface().(*config.Config), nil
}

// SharedHash is the hex SHA-256 of the canonical document (config.Marshal)
// of the selected shared sections. Two nodes run the same shared config
// exactly when their hashes are equal; node-local fields never count.
func SharedHash(c *config.Config, sections []string) (string, error) {
	s, err := Shared(c, sections)
	if err != nil {
		return "", err
	}
	data, err := config.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("configsync: hash: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
