// Package c2patest signs and reads C2PA manifests in tests with the C2PA SDK
// (c2pa-node signs, c2pa-wasm reads and validates: two implementations, neither
// cairn's), through the scripts in export/testdata/c2pa. Tests only.
package c2patest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Kit is what signing and reading need: the node modules and the SDK's test
// certificates.
type Kit struct {
	modules, scripts, certs string
}

// New finds node, @contentauth/c2pa-node and @contentauth/c2pa-wasm (in
// CAIRN_C2PA_MODULES, else ~/.cache/cairn-c2pa-test/node_modules; .ci/run
// installs them) and the shared samples' test certificates. Without them the
// test is skipped, except in CI, where it fails.
func New(t testing.TB) *Kit {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	dir := os.Getenv("CAIRN_C2PA_MODULES")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "cairn-c2pa-test", "node_modules")
	}
	certs := filepath.Join(root, "..", "shared", "samples", "c2pa", "testcerts")
	for _, p := range []string{
		filepath.Join(dir, "@contentauth", "c2pa-node", "dist", "index.node"),
		filepath.Join(dir, "@contentauth", "c2pa-wasm", "pkg", "c2pa_bg.wasm"),
		filepath.Join(certs, "trust_anchors.pem"),
	} {
		if _, err := os.Stat(p); err != nil {
			skip(t, "C2PA test kit: %v (.ci/run installs the packages)", err)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip(t, "node is not installed")
	}
	return &Kit{modules: dir, scripts: filepath.Join(root, "export", "testdata", "c2pa"), certs: certs}
}

func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func (k *Kit) node(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("node", append([]string{filepath.Join(k.scripts, script), k.modules}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// Sign signs the definition in dir (cairn export --c2pa) onto in, writing out,
// with the SDK's test certificate.
func (k *Kit) Sign(t testing.TB, dir, in, out string) {
	t.Helper()
	k.node(t, "sign.mjs", dir, in, out, filepath.Join(k.certs, "es256_certs.pem"), filepath.Join(k.certs, "es256_private.key"))
}

// Read reads and validates a signed file against the SDK's test trust anchors.
func (k *Kit) Read(t testing.TB, file, mime string) *Store {
	t.Helper()
	raw := k.node(t, "read.mjs", file, mime, filepath.Join(k.certs, "trust_anchors.pem"))
	var s Store
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("read.mjs output: %v\n%s", err, raw)
	}
	return &s
}

// Store is what read.mjs prints: the store's validation and its manifests.
type Store struct {
	ValidationState string `json:"validation_state"`
	Status          []struct{ Code, Explanation string }
	Active          Manifest            `json:"active"`
	ActiveLabel     string              `json:"active_label"`
	Manifests       map[string]Manifest `json:"manifests"`
}

// Manifest is the part of a manifest the tests read.
type Manifest struct {
	Title              string `json:"title"`
	Format             string `json:"format"`
	ClaimGeneratorInfo []struct {
		Name string `json:"name"`
	} `json:"claim_generator_info"`
	Ingredients []struct {
		Title          string `json:"title"`
		Relationship   string `json:"relationship"`
		Label          string `json:"label"`
		ActiveManifest string `json:"active_manifest"`
		Description    string `json:"description"`
		Data           *struct {
			Identifier string `json:"identifier"`
		} `json:"data"`
		DataTypes []struct {
			Type string `json:"type"`
		} `json:"data_types"`
	} `json:"ingredients"`
	Assertions []struct {
		Label string          `json:"label"`
		Data  json.RawMessage `json:"data"`
	} `json:"assertions"`
}

// Assertion decodes the data of the manifest's assertion with label into v.
func (m *Manifest) Assertion(t testing.TB, label string, v any) {
	t.Helper()
	for _, a := range m.Assertions {
		if a.Label == label {
			if err := json.Unmarshal(a.Data, v); err != nil {
				t.Fatalf("assertion %s: %v", label, err)
			}
			return
		}
	}
	t.Fatalf("no assertion %s", label)
}

// Action is one entry of c2pa.actions.v2.
type Action struct {
	Action            string         `json:"action"`
	When              string         `json:"when"`
	DigitalSourceType string         `json:"digitalSourceType"`
	Description       string         `json:"description"`
	Parameters        map[string]any `json:"parameters"`
	SoftwareAgent     *struct {
		Name string `json:"name"`
	} `json:"softwareAgent"`
}

// Actions are the manifest's c2pa.actions.v2 actions.
func (m *Manifest) Actions(t testing.TB) []Action {
	t.Helper()
	var acts struct{ Actions []Action }
	m.Assertion(t, "c2pa.actions.v2", &acts)
	return acts.Actions
}
