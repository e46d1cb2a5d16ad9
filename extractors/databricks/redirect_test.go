package databricks

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The artifacts link's headers (a storage encryption key, say) must not
// follow a redirect to another host; they do follow one on the same host.
func TestArtifactsHeadersStayWithTheirHost(t *testing.T) {
	got := make(chan http.Header, 2)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			got <- r.Header.Clone()
			return
		}
		target := other.URL + "/elsewhere"
		if r.URL.Path == "/stay" {
			target = "/same"
		}
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	defer first.Close()

	client := artifactsHTTPClient(nil)
	for _, tc := range []struct {
		path     string
		wantKey  bool
		scenario string
	}{
		{"/stay", true, "same-host redirect"},
		{"/leave", false, "cross-host redirect"},
	} {
		req, err := http.NewRequest(http.MethodGet, first.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-amz-server-side-encryption-customer-key", "c2VjcmV0")
		req.Header.Set("User-Agent", "weft-test")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := <-got
		if has := h.Get("x-amz-server-side-encryption-customer-key") != ""; has != tc.wantKey {
			t.Errorf("%s: encryption key header present = %v, want %v", tc.scenario, has, tc.wantKey)
		}
		if h.Get("User-Agent") != "weft-test" {
			t.Errorf("%s: User-Agent dropped", tc.scenario)
		}
	}
}
