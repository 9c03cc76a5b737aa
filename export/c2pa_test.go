package export

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

type manifestJSON struct {
	Title       string `json:"title"`
	Format      string `json:"format"`
	Ingredients []struct {
		Title        string `json:"title"`
		Relationship string `json:"relationship"`
		Label        string `json:"label"`
		Data         *struct {
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

type actionJSON struct {
	Action            string         `json:"action"`
	When              string         `json:"when"`
	DigitalSourceType string         `json:"digitalSourceType"`
	Parameters        map[string]any `json:"parameters"`
}

func (m *manifestJSON) assertion(t *testing.T, label string, v any) {
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

func TestC2PADefinition(t *testing.T) {
	f := newFixture(t)
	def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var m manifestJSON
	if err := json.Unmarshal(def.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Title != "edited.png" || m.Format != "image/png" {
		t.Errorf("title %q format %q, want the final file edited.png, image/png", m.Title, m.Format)
	}
	var acts struct{ Actions []actionJSON }
	m.assertion(t, "c2pa.actions.v2", &acts)
	var got []string
	for _, a := range acts.Actions {
		got = append(got, a.Action+" "+strings.TrimPrefix(a.DigitalSourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/"))
		if a.When == "" {
			t.Errorf("action %s has no time", a.Action)
		}
	}
	want := []string{"c2pa.created trainedAlgorithmicMedia", "org.cairn.selected ", "c2pa.edited humanEdits", "c2pa.placed ", "c2pa.published "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("actions\n got %q\nwant %q", got, want)
	}
	// Every prompt is an inputTo ingredient of the generation, with its text.
	prompts := 0
	for _, ing := range m.Ingredients {
		if ing.Relationship == "inputTo" {
			prompts++
			if ing.Data == nil || len(ing.DataTypes) != 1 || ing.DataTypes[0].Type != "c2pa.types.generator.prompt" {
				t.Errorf("prompt ingredient %+v lacks its text or type", ing)
				continue
			}
			if text := string(def.Resources[ing.Data.Identifier]); text != fixturePrompts[prompts-1] {
				t.Errorf("prompt %d resource %q, want %q", prompts, text, fixturePrompts[prompts-1])
			}
		}
	}
	if prompts != len(fixturePrompts) {
		t.Errorf("%d prompt ingredients, want %d", prompts, len(fixturePrompts))
	}
	if ids := acts.Actions[0].Parameters["ingredientIds"]; len(ids.([]any)) != len(fixturePrompts) {
		t.Errorf("the generation names %v as ingredients", ids)
	}
	// Nothing of the other asset leaks.
	if s := string(def.Manifest); strings.Contains(s, secretPrompt) || strings.Contains(s, secretTitle) {
		t.Error("the manifest leaks the other asset")
	}

	// Training and mining: the fixture records no choice, so it is reserved.
	var tm struct {
		Entries map[string]struct{ Use string }
	}
	m.assertion(t, "cawg.training-mining", &tm)
	if len(tm.Entries) != 4 || tm.Entries["cawg.ai_training"].Use != "notAllowed" {
		t.Errorf("cawg.training-mining %+v", tm)
	}
	m.assertion(t, "c2pa.training-mining", &tm)
	if tm.Entries["c2pa.data_mining"].Use != "notAllowed" {
		t.Errorf("c2pa.training-mining %+v", tm)
	}

	// The ledger assertion proves the final record against its checkpoint.
	var lg C2PALedger
	m.assertion(t, C2PALedgerLabel, &lg)
	cp, err := ledger.OpenCheckpoint([]byte(lg.Checkpoint), f.id.Public())
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := base64.StdEncoding.DecodeString(lg.Final.Entry)
	var proof tlog.RecordProof
	for _, p := range lg.Final.Proof {
		b, _ := base64.StdEncoding.DecodeString(p)
		var h tlog.Hash
		copy(h[:], b)
		proof = append(proof, h)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, lg.Final.Index, tlog.RecordHash(entry)); err != nil {
		t.Fatalf("inclusion proof of the final record: %v", err)
	}
	rec, err := ledger.DecodeEntry(entry)
	if err != nil {
		t.Fatal(err)
	}
	s, err := evidence.DecodeStep(rec.Payload)
	if err != nil || s.Kind != evidence.KindFinal || s.File.SHA256 != def.Final.SHA256 || lg.File.SHA256 != def.Final.SHA256 {
		t.Fatalf("the ledger assertion's record is not the final step for the file: %+v %v", s, err)
	}

	// Redacted: the hashes stay, the texts go.
	red, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{RedactPrompts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(red.Resources) != 0 {
		t.Errorf("redacted definition has resources %v", red.Resources)
	}
	for _, p := range fixturePrompts {
		if strings.Contains(string(red.Manifest), p) {
			t.Errorf("redacted manifest holds the prompt %q", p)
		}
	}
	if strings.Count(string(red.Manifest), "SHA-256 of the prompt text") != len(fixturePrompts) {
		t.Error("redacted manifest lacks the prompts' hashes")
	}
}

func TestC2PANeedsFinal(t *testing.T) {
	f := newFixture(t)
	_, err := C2PA(f.book, f.id.Key, secretAsset, C2PAOptions{})
	if !evidence.IsInputError(err) || !strings.Contains(err.Error(), "no final file") {
		t.Fatalf("C2PA of an asset without a final file: %v", err)
	}
}

// c2paModules finds the node_modules with @contentauth/c2pa-node and
// @contentauth/c2pa-wasm (.ci/run installs them). Without them the test is
// skipped, except in CI.
func c2paModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CAIRN_C2PA_MODULES")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "cairn-c2pa-test", "node_modules")
	}
	_, err1 := os.Stat(filepath.Join(dir, "@contentauth", "c2pa-node", "dist", "index.node"))
	_, err2 := os.Stat(filepath.Join(dir, "@contentauth", "c2pa-wasm", "pkg", "c2pa_bg.wasm"))
	_, err3 := exec.LookPath("node")
	if err1 != nil || err2 != nil || err3 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node or the C2PA packages are missing from %s (.ci/run installs them)", dir)
		}
		t.Skipf("node or the C2PA packages are missing from %s; install them as .ci/run does", dir)
	}
	return dir
}

// TestC2PASignAndRead signs the definition onto the final file with the C2PA
// SDK (c2pa-node) and the SDK's test certificates, then reads it back with an
// independent reader (c2pa-wasm) against the test trust anchors.
func TestC2PASignAndRead(t *testing.T) {
	modules := c2paModules(t)
	certs, _ := filepath.Abs("../../shared/samples/c2pa/testcerts")
	if _, err := os.Stat(filepath.Join(certs, "trust_anchors.pem")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("test certificates: %v", err)
		}
		t.Skipf("test certificates: %v", err)
	}
	f := newFixture(t)
	if _, err := f.book.Record(f.id, []*evidence.Step{{Kind: evidence.KindAssetSet, Asset: "poster", TDM: "allowed"}}); err != nil {
		t.Fatal(err)
	}
	def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := def.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	in, err := f.book.Files.Path(def.Final.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "signed.png")
	node := func(script string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command("node", append([]string{filepath.Join("testdata", "c2pa", script), modules}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
		}
		return b
	}
	node("sign.mjs", dir, in, out, filepath.Join(certs, "es256_certs.pem"), filepath.Join(certs, "es256_private.key"))
	var got struct {
		ValidationState string `json:"validation_state"`
		Status          []struct{ Code, Explanation string }
		Active          manifestJSON `json:"active"`
	}
	raw := node("read.mjs", out, "image/png", filepath.Join(certs, "trust_anchors.pem"))
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("read.mjs output: %v\n%s", err, raw)
	}
	if got.ValidationState != "Trusted" || len(got.Status) > 0 {
		t.Fatalf("validation state %q, status %+v; want Trusted with no failures", got.ValidationState, got.Status)
	}
	m := &got.Active
	var acts struct{ Actions []actionJSON }
	m.assertion(t, "c2pa.actions.v2", &acts)
	var names, sources []string
	for _, a := range acts.Actions {
		names = append(names, a.Action)
		if a.DigitalSourceType != "" {
			sources = append(sources, a.DigitalSourceType)
		}
	}
	if w := "c2pa.created org.cairn.selected c2pa.edited c2pa.placed c2pa.published"; strings.Join(names, " ") != w {
		t.Errorf("signed actions %v, want %s", names, w)
	}
	if w := evidence.SourceTrainedAlgorithmic + " " + evidence.SourceHumanEdits; strings.Join(sources, " ") != w {
		t.Errorf("digital source types %v, want %s", sources, w)
	}
	var tm struct {
		Entries map[string]struct{ Use string }
	}
	m.assertion(t, "cawg.training-mining", &tm)
	if tm.Entries["cawg.ai_generative_training"].Use != "allowed" {
		t.Errorf("cawg.training-mining %+v, want allowed (the asset says so)", tm)
	}
	m.assertion(t, "c2pa.training-mining", &tm)
	if tm.Entries["c2pa.ai_training"].Use != "allowed" {
		t.Errorf("c2pa.training-mining %+v", tm)
	}
	var lg C2PALedger
	m.assertion(t, C2PALedgerLabel, &lg)
	if lg.Origin != f.book.Ledger.Origin() || lg.File.SHA256 != def.Final.SHA256 || lg.Final.Entry == "" {
		t.Errorf("org.cairn.ledger %+v", lg)
	}
	prompts := 0
	for _, ing := range m.Ingredients {
		if ing.Relationship == "inputTo" && len(ing.DataTypes) == 1 && ing.DataTypes[0].Type == "c2pa.types.generator.prompt" {
			prompts++
		}
	}
	if prompts != len(fixturePrompts) {
		t.Errorf("signed manifest has %d prompt ingredients, want %d", prompts, len(fixturePrompts))
	}
}
