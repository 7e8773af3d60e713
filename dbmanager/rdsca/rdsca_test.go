package rdsca

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"regexp"
	"strings"
	"testing"
)

func certs(t *testing.T) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := PEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out
}

// Every embedded certificate is a self-signed Amazon RDS root CA: the
// bundle trusts nothing else.
func TestBundleHoldsOnlyRDSRoots(t *testing.T) {
	cs := certs(t)
	if len(cs) < 3 {
		t.Fatalf("only %d certificates embedded", len(cs))
	}
	name := regexp.MustCompile(`^Amazon RDS [a-z0-9-]+ Root CA (RSA2048|RSA4096|ECC384) G1$`)
	for _, c := range cs {
		if !name.MatchString(c.Subject.CommonName) || len(c.Subject.OrganizationalUnit) != 1 || c.Subject.OrganizationalUnit[0] != "Amazon RDS" {
			t.Errorf("not an RDS root: %s", c.Subject)
		}
		if !c.IsCA || c.CheckSignatureFrom(c) != nil {
			t.Errorf("%s: not a self-signed CA", c.Subject.CommonName)
		}
	}
	if Pool() == nil {
		t.Fatal("no pool")
	}
}

// FINGERPRINTS.md lists exactly the embedded certificates, so the
// documented provenance cannot drift from what the binary trusts.
func TestBundleMatchesFingerprints(t *testing.T) {
	doc, err := os.ReadFile("FINGERPRINTS.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (Amazon RDS [^|]+) \\| [0-9-]+ \\| `([0-9A-F:]+)` \\|$")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented[m[2]] = m[1]
	}
	cs := certs(t)
	if len(documented) != len(cs) {
		t.Errorf("FINGERPRINTS.md lists %d certificates, the bundle holds %d", len(documented), len(cs))
	}
	for _, c := range cs {
		sum := sha256.Sum256(c.Raw)
		fp := strings.ToUpper(hex.EncodeToString(sum[:]))
		var pairs []string
		for i := 0; i < len(fp); i += 2 {
			pairs = append(pairs, fp[i:i+2])
		}
		key := strings.Join(pairs, ":")
		if documented[key] != c.Subject.CommonName {
			t.Errorf("%s (%s) is not documented in FINGERPRINTS.md", c.Subject.CommonName, key)
		}
	}
}
