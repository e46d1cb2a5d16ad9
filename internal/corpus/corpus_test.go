package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootFromEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "dbt"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(Env, dir)
	if got := Dir(t, "dbt"); got != filepath.Join(dir, "dbt") {
		t.Errorf("Dir = %s, want %s/dbt", got, dir)
	}
}

func TestMissingEnvFolderIsAnError(t *testing.T) {
	t.Setenv(Env, filepath.Join(t.TempDir(), "nowhere"))
	if _, err := Root(); err == nil {
		t.Error("Root accepted a missing $WEFT_CORPUS folder")
	}
}
