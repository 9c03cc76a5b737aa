package formatcheck

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The evidence bundle, evidence.json (FORMAT.md §7.3), and the checks of
// §7.4 that need nothing but the bundle and the PDF's signing certificate.

const (
	bundleV1 = "cairn.evidence-bundle/v1"
	bundleV2 = "cairn.evidence-bundle/v2"
	secB     = "§7.3"
)

type bundleEntry struct {
	list  string // "identities", "rotations" or "records"
	index int64
	raw   []byte
	proof [][]byte
	e     *entry // set once the layout is checked
	st    *step  // set once the step is read
}

type bundleKey struct {
	ed25519    []byte
	keyID      string
	vkey       string
	certSHA256 string
}

type bundleCP struct {
	note        []byte
	cp          *checkpoint
	consistency [][]byte
	timestamp   []byte // nil if absent
	cos         []bundleCos
}

type bundleCos struct {
	witness string
	note    []byte
}

type bundle struct {
	format, origin, asset string
	anchor                *checkpoint
	keys                  []bundleKey
	identities            []*bundleEntry
	rotations             []*bundleEntry
	records               []*bundleEntry
	checkpoints           []*bundleCP
}

// all returns identities ∪ rotations ∪ records in index order.
func (b *bundle) all() []*bundleEntry {
	var out []*bundleEntry
	out = append(out, b.identities...)
	out = append(out, b.rotations...)
	out = append(out, b.records...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

// Bundle verifies an evidence-pack bundle (evidence.json, §7.3–§7.4 rules 2–15; rule 1 is the PDF
// signature, not yours) given the DER certificate that signed the PDF. No TSA roots, no witness
// keys, no pinned keys are trusted (so timestamps are checked for everything but the chain, §3.1).
func Bundle(bundleJSON []byte, signerCertDER []byte) Verdict {
	b, err := readBundle(bundleJSON) // rule 2
	if err != nil {
		return fail(-1, "§7.4 rule 2 (bundle): %v", err)
	}
	ks, v := b.checkKeyRecords() // rules 3 and 4
	if !v.OK {
		return v
	}
	if err := b.checkKeyList(ks); err != nil { // rule 5
		return fail(-1, "§7.4 rule 5 (keys): %v", err)
	}
	if err := b.anchor.checkSigned(b.origin, ks); err != nil { // rule 6
		return fail(-1, "§7.4 rule 6 (checkpoint): %v", err)
	}
	if v := b.checkSigner(ks, signerCertDER); !v.OK { // rule 7
		return v
	}
	if v := b.checkRecords(ks); !v.OK { // rule 8
		return v
	}
	all := b.all()
	if v := checkChain(all); !v.OK { // rule 9
		return v
	}
	for _, be := range all { // rule 10
		if be.index >= b.anchor.size {
			return fail(be.index, "§7.4 rule 10 (inclusion): %s index %d is not below the anchor's size %d", be.list, be.index, b.anchor.size)
		}
		if err := verifyInclusion(be.index, b.anchor.size, leafHash(be.raw), be.proof, b.anchor.root); err != nil {
			return fail(be.index, "§7.4 rule 10 (inclusion): the audit path of %s index %d does not lead to the anchor's root: %v", be.list, be.index, err)
		}
	}
	// Rule 11 (embedded files) needs the PDF's embedded files, which this
	// function is not given.
	for _, c := range b.checkpoints { // rule 12
		if err := c.cp.checkSigned(b.origin, ks); err != nil {
			return fail(-1, "§7.4 rule 12 (consistency): checkpoint of size %d: %v", c.cp.size, err)
		}
		if err := verifyConsistency(c.cp.size, b.anchor.size, c.consistency, c.cp.root, b.anchor.root); err != nil {
			return fail(-1, "§7.4 rule 12 (consistency): checkpoint of size %d is not proven a prefix of the anchor: %v", c.cp.size, err)
		}
	}
	for _, c := range b.checkpoints { // rule 13
		if c.timestamp == nil {
			continue
		}
		cover, have := latestCovered(all, c.cp.size)
		if _, err := checkTimestamp(c.timestamp, c.note, cover, have); err != nil {
			return fail(-1, "§7.4 rule 13 (timestamps): checkpoint of size %d: %v", c.cp.size, err)
		}
	}
	for _, c := range b.checkpoints { // rule 14: no witness key is trusted here
		for _, cs := range c.cos {
			if err := checkCosignedNote(cs.note, c.cp, cs.witness); err != nil {
				return fail(-1, "§7.4 rule 14 (cosignatures): checkpoint of size %d, witness %s: %v", c.cp.size, cs.witness, err)
			}
		}
	}
	// Rule 15: no keys are pinned, so there is nothing to check.
	return ok
}

// latestCovered is the time of the last entry of the pack below size: rule
// 8 of §3.1 "is checked against the records of the pack the element covers"
// (§7.4 rule 13).
func latestCovered(all []*bundleEntry, size int64) (int64, bool) {
	var t int64
	have := false
	for _, be := range all {
		if be.index < size && be.e != nil && (!have || be.e.time > t) {
			t, have = be.e.time, true
		}
	}
	return t, have
}

// readBundle is §7.4 rule 2: the bundle has the form of §7.3, read as
// strictly as a step payload (§5.4 rules 1–4).
func readBundle(data []byte) (*bundle, error) {
	v, err := parseStrict(data)
	if err != nil {
		return nil, err
	}
	// §7.3: "no optional field empty (the required arrays keys,
	// identities, records, proof and consistency may be [])"; with §5.4
	// rule 3, no string or object anywhere is empty either.
	if err := noEmptyBundle(v, "the bundle"); err != nil {
		return nil, err
	}
	fv := v.get("format")
	if fv == nil || fv.kind != jString || (fv.str != bundleV1 && fv.str != bundleV2) {
		return nil, errors.New("§7.3: format is not cairn.evidence-bundle/v2 (or v1)")
	}
	b := &bundle{format: fv.str}
	required := []string{"format", "origin", "asset", "checkpoint", "keys", "identities", "records"}
	var optional []string
	if b.format == bundleV2 {
		optional = []string{"rotations", "checkpoints", "tsa_roots"}
	}
	if err := checkNames(v, "the bundle", secB, required, optional); err != nil {
		return nil, err
	}
	if b.origin, err = str(v.get("origin"), "origin"); err != nil {
		return nil, err
	}
	if !originRE.MatchString(b.origin) {
		return nil, fmt.Errorf("§3: origin %q is not a ledger origin", b.origin)
	}
	if b.asset, err = str(v.get("asset"), "asset"); err != nil {
		return nil, err
	}
	if !assetID.MatchString(b.asset) {
		return nil, fmt.Errorf("§5: asset %q is not an asset ID", b.asset)
	}
	anchor, err := str(v.get("checkpoint"), "checkpoint")
	if err != nil {
		return nil, err
	}
	if b.anchor, err = parseCheckpoint([]byte(anchor)); err != nil {
		return nil, fmt.Errorf("the anchor: %v", err)
	}
	if b.keys, err = readKeys(v.get("keys")); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		name string
		dst  *[]*bundleEntry
	}{{"identities", &b.identities}, {"rotations", &b.rotations}, {"records", &b.records}} {
		if lv := v.get(l.name); lv != nil {
			if *l.dst, err = readEntries(lv, l.name); err != nil {
				return nil, err
			}
		}
	}
	seen := map[int64]string{}
	for _, be := range b.all() {
		if other, dup := seen[be.index]; dup {
			return nil, fmt.Errorf("%s: index %d is in both %s and %s", secB, be.index, other, be.list)
		}
		seen[be.index] = be.list
	}
	if cv := v.get("checkpoints"); cv != nil {
		if b.checkpoints, err = readCheckpoints(cv, b.anchor); err != nil {
			return nil, err
		}
	}
	if rv := v.get("tsa_roots"); rv != nil {
		els, err := wantArray(rv, "tsa_roots", secB)
		if err != nil {
			return nil, err
		}
		for i, el := range els {
			der, err := b64(el, fmt.Sprintf("tsa_roots[%d]", i))
			if err != nil {
				return nil, err
			}
			// "<base64 DER certificate>": informative, but of that form.
			if _, err := x509.ParseCertificate(der); err != nil {
				return nil, fmt.Errorf("%s: tsa_roots[%d] is not a DER X.509 certificate: %v", secB, i, err)
			}
		}
	}
	return b, nil
}

// noEmptyBundle is §5.4 rule 3 as §7.3 applies it to a bundle.
func noEmptyBundle(v *jvalue, path string) error {
	if isEmpty(v) {
		return fmt.Errorf("§5.4 rule 3: %s is an empty %s", path, v.kind)
	}
	switch v.kind {
	case jObject:
		for _, m := range v.members {
			if m.val.kind == jArray && len(m.val.elems) == 0 && contains([]string{"keys", "identities", "records", "proof", "consistency"}, m.name) {
				continue
			}
			if err := noEmptyBundle(m.val, path+"."+m.name); err != nil {
				return err
			}
		}
	case jArray:
		for i, el := range v.elems {
			if err := noEmptyBundle(el, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func str(v *jvalue, where string) (string, error) {
	if v.kind != jString {
		return "", fmt.Errorf("%s: %s must be a string, not a %s", secB, where, v.kind)
	}
	return v.str, nil
}

func b64(v *jvalue, where string) ([]byte, error) {
	s, err := str(v, where)
	if err != nil {
		return nil, err
	}
	out, err := strictBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", secB, where, err)
	}
	return out, nil
}

// hashList reads an array of base64 SHA-256 hashes (proof, consistency).
func hashList(v *jvalue, where string) ([][]byte, error) {
	els, err := wantArray(v, where, secB)
	if err != nil {
		return nil, err
	}
	out := [][]byte{}
	for i, el := range els {
		h, err := b64(el, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, err
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("%s: %s[%d] is %d bytes, not a SHA-256 hash", secB, where, i, len(h))
		}
		out = append(out, h)
	}
	return out, nil
}

func readKeys(v *jvalue) ([]bundleKey, error) {
	els, err := wantArray(v, "keys", secB)
	if err != nil {
		return nil, err
	}
	var out []bundleKey
	for i, el := range els {
		where := fmt.Sprintf("keys[%d]", i)
		if err := checkNames(el, where, secB, []string{"ed25519", "key_id", "vkey", "cert_sha256"}, nil); err != nil {
			return nil, err
		}
		var k bundleKey
		if k.ed25519, err = b64(el.get("ed25519"), where+".ed25519"); err != nil {
			return nil, err
		}
		if k.keyID, err = str(el.get("key_id"), where+".key_id"); err != nil {
			return nil, err
		}
		if k.vkey, err = str(el.get("vkey"), where+".vkey"); err != nil {
			return nil, err
		}
		if k.certSHA256, err = str(el.get("cert_sha256"), where+".cert_sha256"); err != nil {
			return nil, err
		}
		if !isLowerHex(k.keyID, 16) || !isLowerHex(k.certSHA256, 64) {
			return nil, fmt.Errorf("%s: %s: key_id or cert_sha256 is not lowercase hex of the right length", secB, where)
		}
		out = append(out, k)
	}
	return out, nil
}

// readEntries reads identities, rotations or records: index (strictly
// increasing), entry (base64), proof (base64 hashes).
func readEntries(v *jvalue, list string) ([]*bundleEntry, error) {
	els, err := wantArray(v, list, secB)
	if err != nil {
		return nil, err
	}
	var out []*bundleEntry
	for i, el := range els {
		where := fmt.Sprintf("%s[%d]", list, i)
		if err := checkNames(el, where, secB, []string{"index", "entry", "proof"}, nil); err != nil {
			return nil, err
		}
		be := &bundleEntry{list: list}
		if be.index, err = wantUint(el.get("index"), where+".index", secB); err != nil {
			return nil, err
		}
		if i > 0 && be.index <= out[i-1].index {
			return nil, fmt.Errorf("%s: %s indexes are not strictly increasing at %s", secB, list, where)
		}
		if be.raw, err = b64(el.get("entry"), where+".entry"); err != nil {
			return nil, err
		}
		if be.proof, err = hashList(el.get("proof"), where+".proof"); err != nil {
			return nil, err
		}
		out = append(out, be)
	}
	return out, nil
}

// readCheckpoints reads §7.3's checkpoints: increasing, distinct sizes at
// most the anchor's; consistency empty at the anchor's size; an element of
// the anchor's size carries a timestamp or cosignatures; cosignatures per
// witness with distinct names, no spaces or +.
func readCheckpoints(v *jvalue, anchor *checkpoint) ([]*bundleCP, error) {
	els, err := wantArray(v, "checkpoints", secB)
	if err != nil {
		return nil, err
	}
	var out []*bundleCP
	for i, el := range els {
		where := fmt.Sprintf("checkpoints[%d]", i)
		if err := checkNames(el, where, secB, []string{"note", "consistency"}, []string{"timestamp", "cosignatures"}); err != nil {
			return nil, err
		}
		c := &bundleCP{}
		note, err := str(el.get("note"), where+".note")
		if err != nil {
			return nil, err
		}
		c.note = []byte(note)
		if c.cp, err = parseCheckpoint(c.note); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if i > 0 && c.cp.size <= out[i-1].cp.size {
			return nil, fmt.Errorf("%s: checkpoint sizes are not increasing and distinct at %s", secB, where)
		}
		if c.cp.size > anchor.size {
			return nil, fmt.Errorf("%s: %s has size %d, more than the anchor's %d", secB, where, c.cp.size, anchor.size)
		}
		if c.consistency, err = hashList(el.get("consistency"), where+".consistency"); err != nil {
			return nil, err
		}
		if c.cp.size == anchor.size && len(c.consistency) != 0 {
			return nil, fmt.Errorf("%s: %s has the anchor's size but a non-empty consistency proof", secB, where)
		}
		if t := el.get("timestamp"); t != nil {
			if c.timestamp, err = b64(t, where+".timestamp"); err != nil {
				return nil, err
			}
		}
		if cv := el.get("cosignatures"); cv != nil {
			if c.cos, err = readCosignatures(cv, where+".cosignatures"); err != nil {
				return nil, err
			}
		}
		if c.cp.size == anchor.size && c.timestamp == nil && len(c.cos) == 0 {
			return nil, fmt.Errorf("%s: %s has the anchor's size but carries neither a timestamp nor cosignatures", secB, where)
		}
		// "An element of the anchor's size has note equal to checkpoint
		// byte for byte."
		if c.cp.size == anchor.size && !bytes.Equal(c.note, anchor.note.raw) {
			return nil, fmt.Errorf("%s: %s has the anchor's size but its note is not the anchor checkpoint byte for byte", secB, where)
		}
		out = append(out, c)
	}
	return out, nil
}

func readCosignatures(v *jvalue, where string) ([]bundleCos, error) {
	els, err := wantArray(v, where, secB)
	if err != nil {
		return nil, err
	}
	var out []bundleCos
	seen := map[string]bool{}
	for i, el := range els {
		w := fmt.Sprintf("%s[%d]", where, i)
		if err := checkNames(el, w, secB, []string{"witness", "note"}, nil); err != nil {
			return nil, err
		}
		name, err := str(el.get("witness"), w+".witness")
		if err != nil {
			return nil, err
		}
		if !validWitnessName(name) || seen[name] {
			return nil, fmt.Errorf("%s: %s: witness name %q is empty, repeated, or holds a space or +", secB, w, name)
		}
		seen[name] = true
		note, err := str(el.get("note"), w+".note")
		if err != nil {
			return nil, err
		}
		out = append(out, bundleCos{witness: name, note: []byte(note)})
	}
	return out, nil
}

// checkKeyRecords is §7.4 rules 3 and 4, over identities ∪ rotations in
// index order through §5.3. It reports the first failure of rule 3 if any,
// else the first of rule 4 ("checks them in this order").
func (b *bundle) checkKeyRecords() (*keyState, Verdict) {
	ks := newKeyState()
	var first [2]*Verdict
	var list []*bundleEntry
	list = append(append(list, b.identities...), b.rotations...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].index < list[j].index })
	for _, be := range list {
		rule, want := 3, "identity"
		if be.list == "rotations" {
			rule, want = 4, "rotate"
		}
		if err := b.checkEntry(be, want); err == nil {
			err = ks.apply(be.index, be.e, be.st)
			if err != nil {
				v := fail(be.index, "§7.4 rule %d (%s): record %d: %v", rule, be.list, be.index, err)
				if first[rule-3] == nil {
					first[rule-3] = &v
				}
			}
		} else if first[rule-3] == nil {
			v := fail(be.index, "§7.4 rule %d (%s): record %d: %v", rule, be.list, be.index, err)
			first[rule-3] = &v
		}
	}
	for _, v := range first {
		if v != nil {
			return nil, *v
		}
	}
	return ks, ok
}

// checkEntry checks one bundle entry on its own: the layout of §1, seq equal
// to its index, its signature for origin (§1.3), its step read strictly
// (§5.4) and of the kind its list requires.
func (b *bundle) checkEntry(be *bundleEntry, wantKind string) error {
	e, err := parseEntry(be.raw)
	if err != nil {
		return err
	}
	be.e = e
	if e.seq != uint64(be.index) {
		return fmt.Errorf("%s: seq %d does not equal index %d", secB, e.seq, be.index)
	}
	if err := e.checkRecordSig(b.origin); err != nil {
		return err
	}
	st, err := readStep(e.payload)
	if err != nil {
		return fmt.Errorf("payload: %v", err)
	}
	be.st = st
	switch {
	case wantKind != "" && st.kind != wantKind:
		return fmt.Errorf("its step is %s, not %s", st.kind, wantKind)
	case wantKind == "" && (st.kind == "identity" || st.kind == "rotate"):
		return fmt.Errorf("its step is %s, which is not a record of an asset", st.kind)
	}
	return nil
}

// checkKeyList is §7.4 rule 5: keys agrees with the identity and rotation
// records: one object per key introduced, in order of introduction, key_id
// per §5.3, vkey for origin (§3), cert_sha256 of the introducing record's
// certificate.
func (b *bundle) checkKeyList(ks *keyState) error {
	if len(b.keys) != len(ks.order) {
		return fmt.Errorf("keys lists %d keys, the records introduce %d", len(b.keys), len(ks.order))
	}
	for i, ki := range ks.order {
		k := b.keys[i]
		cs := sha256.Sum256(ki.cert)
		switch {
		case !bytes.Equal(k.ed25519, ki.key):
			return fmt.Errorf("keys[%d] is not the key introduced by record %d", i, ki.introducedAt)
		case k.keyID != keyID(ki.key):
			return fmt.Errorf("keys[%d].key_id is not the key's key_id (§5.3)", i)
		case k.vkey != vkey(b.origin, ki.key):
			return fmt.Errorf("keys[%d].vkey is not the key's verifier key for origin (§3)", i)
		case k.certSHA256 != hex.EncodeToString(cs[:]):
			return fmt.Errorf("keys[%d].cert_sha256 is not SHA-256 of record %d's certificate", i, ki.introducedAt)
		}
	}
	return nil
}

// checkSigner is §7.4 rule 7: the PDF's signing certificate is, byte for
// byte, the cert of one of the identity or rotation records, names that
// record's key (checked with the record, §5.3), and that key is not retired
// by a rotation in the pack; or it is no record's, and is bound (§5.3, no
// name to compare) to the key its one cairn URI names (a custodian); or it
// holds no cairn URI, and its key usage, if any, allows signing (CA-issued;
// its chain needs the verifier's CA roots, which Bundle is not given).
func (b *bundle) checkSigner(ks *keyState, cert []byte) Verdict {
	for _, be := range append(append([]*bundleEntry{}, b.identities...), b.rotations...) {
		if !bytes.Equal(be.st.cert, cert) {
			continue
		}
		ki := ks.lookup(be.st.key)
		if ki.retiredAt >= 0 {
			return fail(be.index, "§7.4 rule 7 (signer binding): the PDF is signed with the certificate of key %s, retired by record %d", keyID(ki.key), ki.retiredAt)
		}
		return ok
	}
	c, err := x509.ParseCertificate(cert)
	if err != nil {
		return fail(-1, "§7.4 rule 7 (signer binding): the PDF's signing certificate does not parse: %v", err)
	}
	uris, err := sanURIs(c)
	if err != nil {
		return fail(-1, "§7.4 rule 7 (signer binding): %v", err)
	}
	if ours := cairnURIs(uris); len(ours) > 0 {
		h, found := strings.CutPrefix(ours[0], certURIPrefix)
		key, herr := hex.DecodeString(h)
		if !found || herr != nil || len(key) != 32 {
			return fail(-1, "§7.4 rule 7 (signer binding): the custodian certificate's cairn URI %q names no Ed25519 key", ours[0])
		}
		if err := checkBound(cert, key, nil); err != nil {
			return fail(-1, "§7.4 rule 7 (signer binding): the PDF's signing certificate is no record's and not bound to the key it names: %v", err)
		}
		return ok
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fail(-1, "§7.4 rule 7 (signer binding): the CA-issued signing certificate's key usage allows neither digitalSignature nor nonRepudiation")
	}
	return ok
}

// checkRecords is §7.4 rule 8, with the rules of §5.5, §5.6 and §5's one
// size per SHA-256 over identities ∪ rotations ∪ records in index order
// ("taken together in index order through the rules of §5.3–§5.6").
func (b *bundle) checkRecords(ks *keyState) Verdict {
	bk := newBook()
	for _, be := range b.all() {
		if be.list != "records" {
			// Identity and rotation records were checked by rules 3 and 4;
			// the book needs them so that a retraction of one is refused
			// for what it is.
			bk.add(be.index, be.e, be.st)
		}
	}
	for i, be := range b.records {
		bad := func(format string, args ...any) Verdict {
			return fail(be.index, "§7.4 rule 8 (records): record %d: %s", be.index, fmt.Sprintf(format, args...))
		}
		if err := b.checkEntry(be, ""); err != nil {
			return bad("%v", err)
		}
		if be.st.asset != b.asset {
			return bad("its asset is %q, not the bundle's %q", be.st.asset, b.asset)
		}
		if !ks.inUse(be.e.key, be.index) {
			return bad("§5.3: signed by key %s, which is not in use at index %d (%s)", keyID(be.e.key), be.index, ks.why(be.e.key, be.index))
		}
		// §5.5: the asset's asset record is among them, before the others.
		if (i == 0) != (be.st.kind == "asset") {
			if i == 0 {
				return bad("§5.5: the first record of asset %q is a %s step, not the asset step that creates it", b.asset, be.st.kind)
			}
			return bad("§5.5: asset %q is created a second time", b.asset)
		}
		if err := bk.check(be.index, be.e, be.st, ks, true); err != nil {
			return bad("%v", err)
		}
		bk.add(be.index, be.e, be.st)
	}
	if len(b.records) == 0 {
		return fail(-1, "§7.4 rule 8 (records): §5.5: the asset's asset record is not among the records")
	}
	return ok
}

// checkChain is §7.4 rule 9: wherever two entries have consecutive indexes
// i and i+1, entry i+1's prev is SHA-256(body(entry i)) and its time is not
// earlier.
func checkChain(all []*bundleEntry) Verdict {
	for j := 1; j < len(all); j++ {
		a, c := all[j-1], all[j]
		if c.index != a.index+1 {
			continue
		}
		if !bytes.Equal(c.e.prev, a.e.link()) {
			return fail(c.index, "§7.4 rule 9 (chain): record %d's prev is not the link of record %d (§1.2)", c.index, a.index)
		}
		if c.e.time < a.e.time {
			return fail(c.index, "§7.4 rule 9 (chain): record %d's time is earlier than record %d's", c.index, a.index)
		}
	}
	return ok
}
