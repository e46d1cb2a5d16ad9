package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writeFileAtomic writes a file through write, replacing path only when
// write and the close succeed. Every error names path, the file the user
// asked for, never the temporary file written first, and says what to do.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
		// A device, pipe or socket (/dev/null, /dev/stdout, a FIFO):
		// renaming a temporary file over it would replace it, so write to
		// it as it is.
		return writeSpecial(path, write)
	}
	// Replace what a symlink points at, not the link, and keep an existing
	// file's permissions.
	target, existed := path, false
	mode := os.FileMode(0o644)
	if real, serr := filepath.EvalSymlinks(path); serr == nil {
		target, existed = real, true
		if fi, serr := os.Stat(real); serr == nil {
			mode = fi.Mode().Perm()
		}
	}
	dir := filepath.Dir(target)
	fail := func(err error) error { return writeError(path, dir, existed, err) }
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tempWriter{tmp}); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fail(err)
	}
	return nil
}

// writeSpecial writes to an existing file that is not a regular file.
func writeSpecial(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return writeError(path, "", false, err)
	}
	if err := write(tempWriter{f}); err != nil {
		f.Close()
		return writeError(path, "", false, err)
	}
	if err := f.Close(); err != nil {
		return writeError(path, "", false, err)
	}
	return nil
}

// tempWriter is the file being written, with errors that do not name it:
// for a regular file its name is the temporary one, which the user never
// asked for, and writeError names the path they did.
type tempWriter struct{ f *os.File }

func (w tempWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	return n, bareError(err)
}

// bareError strips the file names an *fs.PathError or *os.LinkError adds,
// keeping the cause (an errno, for errors.Is).
func bareError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// writeError reports that path could not be written, with the likely fix.
// dir is the directory the new file is created in, empty for a special
// file written in place; unchanged says that path exists and was left as
// it was.
func writeError(path, dir string, unchanged bool, err error) error {
	cause, hint := bareError(err), ""
	switch {
	case dir != "" && errors.Is(cause, syscall.ENOTDIR):
		if f := fileInPath(dir); f != "" {
			cause = fmt.Errorf("%s is a file, not a directory", f)
		}
		hint = "pass another -o"
	case dir != "" && errors.Is(cause, fs.ErrNotExist) && !exists(dir):
		cause = fmt.Errorf("directory %s does not exist", dir)
		hint = "create it, or pass another -o"
	case errors.Is(cause, fs.ErrPermission):
		if dir != "" {
			// The file is written next to path and renamed over it, so
			// the directory must be writable, not just the file.
			cause = fmt.Errorf("permission denied: cannot write files in directory %s", dir)
		}
		hint = "check the permissions, or pass another -o"
	case errors.Is(cause, syscall.EROFS):
		hint = "pass another -o"
	case errors.Is(cause, syscall.ENOSPC), errors.Is(cause, syscall.EDQUOT):
		hint = "free some space, or pass another -o"
	}
	if unchanged {
		if hint != "" {
			hint += "; "
		}
		hint += path + " is unchanged"
	}
	if hint != "" {
		return fmt.Errorf("write %s: %w (%s)", path, cause, hint)
	}
	return fmt.Errorf("write %s: %w", path, cause)
}

// fileInPath returns the nearest of dir and its parents that exists and
// is not a directory, or "".
func fileInPath(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && !fi.IsDir() {
			return d
		}
		if parent := filepath.Dir(d); parent == d {
			return ""
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
