//go:build unix

package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Writing the graph to a FIFO (or /dev/null, /dev/stdout) must write into
// it, not rename a temporary file over it and replace the special file.
func TestWriteFileAtomicKeepsSpecialFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "graph")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "graph" {
		t.Errorf("reader got %q, want %q", s, "graph")
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: mode %v", path, fi.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// -o through a symlink replaces the file it points at, keeps the link and
// the file's permissions.
func TestWriteFileAtomicFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "graph.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := writeFileAtomic(link, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
	b, err := os.ReadFile(real)
	if err != nil || string(b) != "new" {
		t.Errorf("target = %q, %v; want new", b, err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 kept", fi.Mode().Perm())
	}
}

// Errors name the file asked for, never the temporary file written first,
// and say what to do.
func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "graph.json")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}
	tests := []struct {
		name  string
		path  string
		write func(io.Writer) error
		want  string
	}{
		{
			name:  "parent is a file",
			path:  filepath.Join(existing, "sub", "out.json"),
			write: ok,
			want:  "write " + filepath.Join(existing, "sub", "out.json") + ": " + existing + " is a file, not a directory (pass another -o)",
		},
		{
			name:  "no such directory",
			path:  filepath.Join(dir, "missing", "out.json"),
			write: ok,
			want:  "write " + filepath.Join(dir, "missing", "out.json") + ": directory " + filepath.Join(dir, "missing") + " does not exist (create it, or pass another -o)",
		},
		{
			name: "the writer fails: the file is unchanged",
			path: existing,
			write: func(w io.Writer) error {
				io.WriteString(w, "partial")
				return errors.New("encode graph: broken")
			},
			want: "write " + existing + ": encode graph: broken (" + existing + " is unchanged)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := writeFileAtomic(tt.path, tt.write)
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "old" {
		t.Errorf("%s = %q, want it unchanged", existing, b)
	}
	assertNoTemp(t, dir)
}

// A full disk (/dev/full) and a directory the user cannot write to: the
// error names the path asked for and the fix.
func TestWriteFileAtomicNoSpaceNoPermission(t *testing.T) {
	t.Run("disk full", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		err := writeFileAtomic("/dev/full", func(w io.Writer) error {
			_, err := io.WriteString(w, "graph")
			return err
		})
		want := "write /dev/full: no space left on device (free some space, or pass another -o)"
		if err == nil || err.Error() != want {
			t.Errorf("error:\n got %v\nwant %s", err, want)
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("errors.Is(%v, ENOSPC) = false", err)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only directories (the parent-is-a-file case covers the message)")
		}
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		path := filepath.Join(dir, "graph.json")
		err := writeFileAtomic(path, func(w io.Writer) error { return nil })
		want := "write " + path + ": permission denied: cannot write files in directory " + dir + " (check the permissions, or pass another -o)"
		if err == nil || err.Error() != want {
			t.Errorf("error:\n got %v\nwant %s", err, want)
		}
	})
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
