package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// FileProvider reads a base64 root key from a file. The file must not be
// readable by group or others.
type FileProvider struct{ Path string }

func (p FileProvider) String() string { return "file " + p.Path }

func (p FileProvider) RootKey(context.Context) ([]byte, error) {
	fi, err := os.Stat(p.Path)
	if err != nil {
		return nil, fmt.Errorf("root key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("root key file %s has mode %v; it must not be accessible by group or others (chmod 600)", p.Path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(p.Path)
	if err != nil {
		return nil, fmt.Errorf("root key file: %w", err)
	}
	defer envelope.Zero(b)
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("root key file %s: %w", p.Path, err)
	}
	return k, nil
}

// EnvProvider reads a base64 root key from an environment variable.
type EnvProvider struct{ Var string }

func (p EnvProvider) String() string { return "environment variable " + p.Var }

func (p EnvProvider) RootKey(context.Context) ([]byte, error) {
	v, ok := os.LookupEnv(p.Var)
	if !ok || v == "" {
		return nil, fmt.Errorf("%s is not set", p.Var)
	}
	k, err := ParseKey(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Var, err)
	}
	return k, nil
}

// GenerateFile creates path with a fresh random root key (mode 0600) if it
// does not exist yet, and reports whether it created it. It never
// overwrites an existing file.
func GenerateFile(path string) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	raw := envelope.NewDataKey()
	defer envelope.Zero(raw)
	if _, err := f.WriteString(EncodeKey(raw) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	return true, f.Close()
}
