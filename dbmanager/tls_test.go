package dbmanager_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
)

// testCA is a throw-away certificate authority for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert issues a server certificate for the given IP addresses.
func (ca *testCA) serverCert(t *testing.T, ips ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "test database"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// The manager verifies the database server's certificate by default: a
// server whose certificate does not chain to the trusted bundle (an
// impostor inside the VPC, a DNS or routing mistake) gets no IAM token
// and no SQL; one that does is accepted. The pgtest server stands in for
// Aurora with a certificate from a test CA.
func TestManagerVerifiesServerCertificate(t *testing.T) {
	enableOnce.Do(func() { srv.EnableAdminIAM(t) })
	trusted := newTestCA(t, "Wharf test trusted CA")
	certPEM, keyPEM := trusted.serverCert(t, "127.0.0.1")
	srv.EnableTLS(t, certPEM, keyPEM)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, trusted.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(other, newTestCA(t, "Wharf test other CA").pem, 0o600); err != nil {
		t.Fatal(err)
	}
	manager := func(t *testing.T, cfg dbmanager.Config) *dbmanager.Manager {
		t.Helper()
		cfg.Port, cfg.AdminUser = srv.Port, pgtest.AdminUser
		if cfg.Host == "" {
			cfg.Host = srv.Host
		}
		m, err := dbmanager.NewManager(cfg, staticTokens, nil)
		if err != nil {
			t.Fatalf("new manager: %v", err)
		}
		return m
	}
	refused := func(t *testing.T, m *dbmanager.Manager) {
		t.Helper()
		app, _ := appName(t)
		resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app})
		if resp.OK {
			t.Fatalf("the manager talked to a server it should not trust: %+v", resp)
		}
		if msg := resp.Error.Message; !strings.Contains(msg, "certificate") {
			t.Errorf("the refusal does not name the certificate: %s", msg)
		}
	}

	t.Run("default trust (the embedded RDS bundle) refuses a certificate from another CA", func(t *testing.T) {
		refused(t, manager(t, dbmanager.Config{}))
	})
	t.Run("a bundle without the server's CA refuses", func(t *testing.T) {
		refused(t, manager(t, dbmanager.Config{SSLRootCert: other}))
	})
	t.Run("the right CA for another name refuses (verify-full checks the host)", func(t *testing.T) {
		refused(t, manager(t, dbmanager.Config{SSLRootCert: bundle, Host: "localhost"}))
	})
	t.Run("the server's CA in the bundle is accepted", func(t *testing.T) {
		app, db := appName(t)
		m := manager(t, dbmanager.Config{SSLRootCert: bundle})
		resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
		if resp.Database != db {
			t.Errorf("database %q, want %q", resp.Database, db)
		}
		// The script's session (as the app's role) really used TLS.
		run := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, App: app, ID: "tls-check",
			SQL: "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()"}))
		if len(run.Results) != 1 || len(run.Results[0].Rows) != 1 || run.Results[0].Rows[0][0] == nil || (*run.Results[0].Rows[0][0] != "t" && *run.Results[0].Rows[0][0] != "true") {
			t.Errorf("the session did not use TLS: %v", run.Results)
		}
		mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app}))
	})
}
