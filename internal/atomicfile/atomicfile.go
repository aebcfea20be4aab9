// Package atomicfile replaces files so that a power cut leaves either the
// old content or the new, never a torn file. The config history, the web
// UI's credentials and its TLS key live on a USB stick that may be pulled at
// any moment.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// TempPrefix starts the name of every temporary file Write makes, so that
// a caller can sweep the leftovers of an interrupted write (and nothing
// else) from its directory. The leading dot hides them on a PC.
const TempPrefix = ".rampart-tmp-"

// Write replaces path with data: temp file in the same directory, write,
// fsync, rename, fsync the directory. perm 0 leaves the mode alone, for
// filesystems such as vfat that refuse chmod.
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	if err := writeSync(f, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, errors.Join(err, os.Remove(tmp)))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, errors.Join(err, os.Remove(tmp)))
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeSync(f *os.File, data []byte, perm os.FileMode) error {
	var err error
	if perm != 0 {
		err = f.Chmod(perm)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// SyncDir makes a rename or file creation in dir durable. Filesystems that
// cannot fsync a directory say EINVAL; there is nothing more to do on those.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return errors.Join(err, d.Close())
}

// ReadLimited reads path, refusing files larger than limit: the files it
// reads are small, and a corrupt or hostile one must not exhaust memory.
func ReadLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return data, nil
}
