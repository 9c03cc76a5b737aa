package evidence

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// An Identity is a person's signing keys: Ed25519 for ledger records and
// checkpoints, and ECDSA P-256 for PDF signatures (PDF readers do not validate
// Ed25519). The P-256 certificate names the person and carries the Ed25519 public
// key as a URI (urn:cairn:ed25519:<hex>); the identity record, signed with the
// Ed25519 key, carries the certificate. Each key vouches for the other.
type Identity struct {
	Name, Email string
	Key         ed25519.PrivateKey
	PDFKey      *ecdsa.PrivateKey
	Cert        *x509.Certificate
	// Encrypted says that the key file it was loaded from is protected by a
	// passphrase; a rotation protects the new key the same way.
	Encrypted bool
}

// Public returns the Ed25519 public key.
func (id *Identity) Public() ed25519.PublicKey { return id.Key.Public().(ed25519.PublicKey) }

// Fingerprint is the short key identifier shown to people.
func (id *Identity) Fingerprint() string { return ledger.KeyID(id.Public()) }

// Step returns the identity record that introduces these keys into a ledger.
func (id *Identity) Step() *Step {
	return &Step{
		V: StepVersion, Kind: KindIdentity, Name: id.Name, Email: id.Email,
		Key:  base64.StdEncoding.EncodeToString(id.Public()),
		Cert: base64.StdEncoding.EncodeToString(id.Cert.Raw),
	}
}

// KeyURI is how a certificate names the Ed25519 key it is bound to.
func KeyURI(pub ed25519.PublicKey) string { return "urn:cairn:ed25519:" + hex.EncodeToString(pub) }

// NewIdentity makes fresh keys and a self-signed certificate valid for ten years.
func NewIdentity(name, email string, now time.Time) (*Identity, error) {
	if err := checkText("name", name, 256); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, inputErrorf("a name is needed for the identity: cairn init --name \"Your Name\" (it appears in evidence packs)")
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	pdfKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := &Identity{Name: name, Email: email, Key: key, PDFKey: pdfKey}
	u, _ := url.Parse(KeyURI(id.Public()))
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(10, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{u},
	}
	if email != "" {
		tmpl.EmailAddresses = []string{email}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &pdfKey.PublicKey, pdfKey)
	if err != nil {
		return nil, err
	}
	id.Cert, err = x509.ParseCertificate(der)
	return id, err
}

// DefaultKeyPath is $CAIRN_KEY, else $XDG_CONFIG_HOME/cairn/identity.json, else
// ~/.config/cairn/identity.json.
func DefaultKeyPath() (string, error) {
	if p := os.Getenv("CAIRN_KEY"); p != "" {
		return p, nil
	}
	dir, err := UserConfigDir()
	if err != nil {
		return "", errors.New("cannot find a home directory for the identity key; set CAIRN_KEY to a file path")
	}
	return filepath.Join(dir, "identity.json"), nil
}

// maxKeyFile bounds an identity file: the keys and a certificate take 2 KB.
const maxKeyFile = 64 << 10

// keyFile is the identity file's JSON form.
type keyFile struct {
	Comment   string          `json:"comment"`
	Version   int             `json:"version"`
	Name      string          `json:"name"`
	Email     string          `json:"email,omitempty"`
	PublicKey string          `json:"public_key"`
	Cert      string          `json:"cert"`
	Secret    *keySecret      `json:"secret,omitempty"`
	Encrypted *encryptedBlock `json:"encrypted,omitempty"`
}

type keySecret struct {
	Ed25519Seed string `json:"ed25519_seed"`
	P256PKCS8   string `json:"p256_pkcs8"`
}

// encryptedBlock holds keySecret's JSON sealed with ChaCha20-Poly1305 under a key
// derived from the passphrase with scrypt.
type encryptedBlock struct {
	KDF        string `json:"kdf"`
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       string `json:"salt"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// ErrKeyExists is returned by Save when the file already exists.
var ErrKeyExists = errors.New("identity key file already exists")

// Save writes the identity to path with mode 0600, encrypting the private keys when
// passphrase is not empty. It never overwrites a file.
func (id *Identity) Save(path string, passphrase []byte) error {
	data, err := id.marshal(passphrase)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", path, ErrKeyExists)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDirErr(filepath.Dir(path))
}

// Key-derivation parameters: what Save writes, and the most LoadIdentity
// accepts. scrypt needs 128·N·r bytes of memory and p times the work, so a key
// file must not be able to ask for more than a laptop has (r=100000 took all of
// it).
const (
	scryptN        = 1 << 15
	scryptR        = 8
	scryptP        = 1
	maxScryptN     = 1 << 20
	maxScryptR     = 32
	maxScryptP     = 16
	maxScryptBytes = 256 << 20
)

// marshal returns the key file's bytes.
func (id *Identity) marshal(passphrase []byte) ([]byte, error) {
	p8, err := x509.MarshalPKCS8PrivateKey(id.PDFKey)
	if err != nil {
		return nil, err
	}
	secret := keySecret{
		Ed25519Seed: base64.StdEncoding.EncodeToString(id.Key.Seed()),
		P256PKCS8:   base64.StdEncoding.EncodeToString(p8),
	}
	kf := keyFile{
		Comment:   "cairn identity. Private keys: keep this file secret (mode 0600) and backed up.",
		Version:   1,
		Name:      id.Name,
		Email:     id.Email,
		PublicKey: base64.StdEncoding.EncodeToString(id.Public()),
		Cert:      base64.StdEncoding.EncodeToString(id.Cert.Raw),
	}
	if len(passphrase) == 0 {
		kf.Secret = &secret
	} else {
		plain, _ := json.Marshal(secret)
		blk := &encryptedBlock{KDF: "scrypt", N: scryptN, R: scryptR, P: scryptP}
		salt := make([]byte, 16)
		nonce := make([]byte, chacha20poly1305.NonceSize)
		rand.Read(salt)
		rand.Read(nonce)
		k, err := scrypt.Key(passphrase, salt, blk.N, blk.R, blk.P, chacha20poly1305.KeySize)
		if err != nil {
			return nil, err
		}
		aead, _ := chacha20poly1305.New(k)
		blk.Salt = base64.StdEncoding.EncodeToString(salt)
		blk.Nonce = base64.StdEncoding.EncodeToString(nonce)
		blk.Ciphertext = base64.StdEncoding.EncodeToString(aead.Seal(nil, nonce, plain, []byte("cairn identity v1")))
		kf.Encrypted = blk
	}
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ErrNoIdentity is wrapped when the key file does not exist.
var ErrNoIdentity = errors.New("no identity key")

// ErrBadPassphrase is returned when the passphrase does not open the key.
var ErrBadPassphrase = errors.New("wrong passphrase for the identity key")

// PublicIdentity reads the public half of the key file without asking for a passphrase.
func PublicIdentity(path string) (name, email string, pub ed25519.PublicKey, cert *x509.Certificate, encrypted bool, err error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return "", "", nil, nil, false, err
	}
	pub, cert, err = kf.public(path)
	return kf.Name, kf.Email, pub, cert, kf.Encrypted != nil, err
}

func readKeyFile(path string) (*keyFile, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s; create one with: cairn init --name \"Your Name\"", ErrNoIdentity, path)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, inputErrorf("identity key %s is readable by others (mode %04o); protect it with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := userfile.Read(path, "identity key file", maxKeyFile)
	if err != nil {
		return nil, err
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil || kf.Version != 1 {
		return nil, fmt.Errorf("identity key %s is not a cairn identity file (version 1)", path)
	}
	return &kf, nil
}

// KeyDirWarning describes a danger in the directory that holds the key file at
// path, or returns "": a directory others may write to lets them replace the
// key (and so sign as its owner), even when the file itself is mode 0600.
func KeyDirWarning(path string) string {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o022 == 0 {
		return ""
	}
	return fmt.Sprintf("the directory of your identity key, %s, is writable by others (mode %04o): they could replace the key; protect it with: chmod 700 %s",
		dir, fi.Mode().Perm(), dir)
}

func (kf *keyFile) public(path string) (ed25519.PublicKey, *x509.Certificate, error) {
	pub, err := base64.StdEncoding.DecodeString(kf.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("identity key %s: invalid public key", path)
	}
	der, err := base64.StdEncoding.DecodeString(kf.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("identity key %s: invalid certificate", path)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("identity key %s: invalid certificate: %v", path, err)
	}
	return pub, cert, nil
}

// LoadIdentity reads the identity at path. If its keys are encrypted, passphrase is
// called once to get the passphrase.
func LoadIdentity(path string, passphrase func() ([]byte, error)) (*Identity, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub, cert, err := kf.public(path)
	if err != nil {
		return nil, err
	}
	secret := kf.Secret
	if kf.Encrypted != nil {
		blk := kf.Encrypted
		salt, _ := base64.StdEncoding.DecodeString(blk.Salt)
		nonce, _ := base64.StdEncoding.DecodeString(blk.Nonce)
		ct, _ := base64.StdEncoding.DecodeString(blk.Ciphertext)
		if blk.KDF != "scrypt" || len(nonce) != chacha20poly1305.NonceSize {
			return nil, fmt.Errorf("identity key %s: unsupported encryption parameters", path)
		}
		if err := checkScrypt(blk); err != nil {
			return nil, inputErrorf("identity key %s: %v", path, err)
		}
		if passphrase == nil {
			return nil, fmt.Errorf("identity key %s is encrypted; set CAIRN_PASSPHRASE or run cairn in a terminal", path)
		}
		pass, err := passphrase()
		if err != nil {
			return nil, err
		}
		k, err := scrypt.Key(pass, salt, blk.N, blk.R, blk.P, chacha20poly1305.KeySize)
		if err != nil {
			return nil, err
		}
		aead, _ := chacha20poly1305.New(k)
		plain, err := aead.Open(nil, nonce, ct, []byte("cairn identity v1"))
		if err != nil {
			return nil, ErrBadPassphrase
		}
		secret = new(keySecret)
		if err := json.Unmarshal(plain, secret); err != nil {
			return nil, fmt.Errorf("identity key %s: corrupt secret", path)
		}
	}
	if secret == nil {
		return nil, fmt.Errorf("identity key %s holds no private key", path)
	}
	seed, err := base64.StdEncoding.DecodeString(secret.Ed25519Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("identity key %s: invalid Ed25519 private key", path)
	}
	p8, err := base64.StdEncoding.DecodeString(secret.P256PKCS8)
	if err != nil {
		return nil, fmt.Errorf("identity key %s: invalid P-256 private key", path)
	}
	pk, err := x509.ParsePKCS8PrivateKey(p8)
	ec, ok := pk.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("identity key %s: invalid P-256 private key", path)
	}
	id := &Identity{Name: kf.Name, Email: kf.Email, Key: ed25519.NewKeyFromSeed(seed), PDFKey: ec, Cert: cert, Encrypted: kf.Encrypted != nil}
	if !id.Public().Equal(pub) {
		return nil, fmt.Errorf("identity key %s: the private key does not match the public key", path)
	}
	if !ec.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("identity key %s: the PDF-signing key does not match its certificate", path)
	}
	return id, nil
}

// checkScrypt refuses key-derivation parameters that would take more memory or
// time than any key cairn writes could need, before scrypt allocates them.
func checkScrypt(b *encryptedBlock) error {
	switch {
	case b.N < 1<<10 || b.N > maxScryptN || b.N&(b.N-1) != 0,
		b.R < 1 || b.R > maxScryptR, b.P < 1 || b.P > maxScryptP,
		int64(b.N)*int64(b.R)*128 > maxScryptBytes:
		return fmt.Errorf("its scrypt parameters (N=%d, r=%d, p=%d) are outside what cairn reads "+
			"(N a power of two up to %d, r up to %d, p up to %d, at most %d MiB of memory); "+
			"the file was not written by cairn or was damaged: restore it from your backup",
			b.N, b.R, b.P, maxScryptN, maxScryptR, maxScryptP, maxScryptBytes>>20)
	}
	return nil
}
