package snowflake

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
)

const testPassphrase = "fake-passphrase-7Hk"

func TestParsePrivateKey(t *testing.T) {
	want, err := parsePrivateKey(mustRead(t, "testdata/fake_key.p8"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file, pass, err string
	}{
		{"fake_key.p8", "", ""},
		{"fake_key_aes256.p8", testPassphrase, ""},
		{"fake_key_des3.p8", testPassphrase, ""},
		{"fake_key_pkcs1.pem", "", ""},
		{"fake_key_aes256.p8", "", "key is encrypted: set private_key_passphrase"},
		{"fake_key_aes256.p8", "wrong-passphrase", "wrong passphrase or corrupt key"},
		{"fake_key_des3.p8", "wrong-passphrase", "wrong passphrase or corrupt key"},
		{"../config.go", "", "not a PEM file"},
	} {
		t.Run(c.file+"/"+c.pass, func(t *testing.T) {
			k, err := parsePrivateKey(mustRead(t, "testdata/"+c.file), c.pass)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				if c.pass != "" && strings.Contains(err.Error(), c.pass) {
					t.Fatalf("error leaks the passphrase: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(want) {
				t.Fatal("decoded a different key")
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuthMethods logs in with each method through the real driver; the
// fake checks the JWT's signature for key-pair logins.
func TestAuthMethods(t *testing.T) {
	key, err := parsePrivateKey(mustRead(t, "testdata/fake_key.p8"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		set    func(*Config)
		fields map[string]string // login request fields
	}{
		{"password", func(c *Config) {}, map[string]string{"PASSWORD": "fake-password-Xq9!"}},
		{"oauth", func(c *Config) { c.Password, c.Token = "", "fake-oauth-token-Zr4" }, map[string]string{"AUTHENTICATOR": "OAUTH", "TOKEN": "fake-oauth-token-Zr4"}},
		{"keypair", func(c *Config) { c.Password, c.PrivateKeyFile = "", "testdata/fake_key.p8" }, map[string]string{"AUTHENTICATOR": "SNOWFLAKE_JWT"}},
		{"keypair-encrypted", func(c *Config) {
			c.Password, c.PrivateKeyFile, c.PrivateKeyPassphrase = "", "testdata/fake_key_aes256.p8", testPassphrase
		}, map[string]string{"AUTHENTICATOR": "SNOWFLAKE_JWT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := newFake(t, demoExport)
			if strings.HasPrefix(c.name, "keypair") {
				fake.publicKey = &key.PublicKey
			}
			cfg := demoWindow(fake.config())
			c.set(&cfg)
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(collect(t, e)); n != 2 {
				t.Errorf("%d batches, want 2", n)
			}
			for k, v := range c.fields {
				if got := fmt.Sprint(fake.logins[0][k]); got != v {
					t.Errorf("login %s = %q, want %q", k, got, v)
				}
			}
			// key-pair logins name the user in the JWT, the others in LOGIN_NAME
			if got := fmt.Sprint(fake.logins[0]["LOGIN_NAME"]); got != "WEFT_READER" && !strings.HasPrefix(c.name, "keypair") {
				t.Errorf("LOGIN_NAME = %q", got)
			}
		})
	}
}

// TestSecretsNeverLeak runs every path that logs, errors or writes output,
// with a debug logger, and checks that no credential appears anywhere.
func TestSecretsNeverLeak(t *testing.T) {
	keyPEM := string(mustRead(t, "testdata/fake_key.p8"))
	keyBody := strings.Split(keyPEM, "\n")[1] // a line of the key's base64
	secrets := []string{"fake-password-Xq9!", "fake-oauth-token-Zr4", testPassphrase, keyBody}

	var sink bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	check := func(where, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s leaks a secret %q...:\n%s", where, sec[:6], s)
			}
		}
	}

	fake := newFake(t, demoExport)
	base := demoWindow(fake.config())
	base.Logger = logger
	variants := map[string]func(*Config){
		"password": func(c *Config) { c.Password = "fake-password-Xq9!" },
		"token":    func(c *Config) { c.Password, c.Token = "", "fake-oauth-token-Zr4" },
		"key": func(c *Config) {
			c.Password, c.PrivateKeyFile, c.PrivateKeyPassphrase = "", "testdata/fake_key_aes256.p8", testPassphrase
		},
	}
	for name, set := range variants {
		cfg := base
		set(&cfg)
		// the config itself, every way it can be printed
		check(name+" %v", fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg))
		logger.Info("config", "cfg", cfg)

		// a successful run: logs and output
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		check(name+" extractor", fmt.Sprintf("%v %+v", e, e))
		var out bytes.Buffer
		err = e.Extract(context.Background(), func(b extractors.Batch) error {
			out.Write(render(t, []extractors.Batch{b}))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check(name+" output", out.String())

		// failing runs: login refused, bad key passphrase, SQL error
		bad := cfg
		bad.Port = closedPort(t)
		bad.LoginTimeout, bad.MaxRetryCount = 1, 0
		fails := []Config{bad}
		if cfg.PrivateKeyFile != "" {
			wrong := cfg
			wrong.PrivateKeyPassphrase = "fake-passphrase-7Hk-wrong"
			fails = append(fails, wrong)
		}
		for _, f := range fails {
			e, err := New(f)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Extract(context.Background(), func(extractors.Batch) error { return nil })
			if err == nil {
				t.Fatalf("%s: want an error", name)
			}
			check(name+" error", err.Error())
			logger.Error("extract failed", "err", err)
		}
		fake.failSQL = "snowflake.account_usage"
		e, _ = New(cfg)
		if err := e.Extract(context.Background(), func(extractors.Batch) error { return nil }); err != nil {
			check(name+" sql error", err.Error())
		} else {
			t.Errorf("%s: want the SQL error", name)
		}
		fake.failSQL = ""
	}
	// New's validation errors
	_, err := New(Config{Account: "acmebank-prod", User: "U", Password: "fake-password-Xq9!", Token: "fake-oauth-token-Zr4"})
	if err == nil {
		t.Fatal("want an error for two auth methods")
	}
	check("validation error", err.Error())
	check("logs", sink.String())
	if !strings.Contains(sink.String(), "[redacted]") {
		t.Errorf("logs do not show redacted secrets:\n%s", sink.String())
	}
}
