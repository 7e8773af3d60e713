package testoidc

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// CA is a throwaway certificate authority for test servers.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	file string
}

// NewCA creates a CA valid for a day.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wharf test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// PEM is the CA certificate.
func (c *CA) PEM() []byte { return c.pem }

// Pool is a cert pool holding only the CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// WriteFile writes the CA to a temporary PEM file (for SSL_CERT_FILE).
func (c *CA) WriteFile() (string, error) {
	if c.file != "" {
		return c.file, nil
	}
	f, err := os.CreateTemp("", "wharf-test-ca-*.pem")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(c.pem); err != nil {
		return "", err
	}
	c.file = f.Name()
	return c.file, nil
}

// Remove deletes the file WriteFile wrote.
func (c *CA) Remove() {
	if c.file != "" {
		os.Remove(c.file)
	}
}

// Issue returns a server certificate for the hosts (names or IPs).
func (c *CA) Issue(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key}, nil
}

// RoutingProxy is an HTTP CONNECT proxy that sends each routed host:port
// to a local address and refuses every other destination, so a
// subprocess with HTTPS_PROXY set cannot reach the internet by accident.
type RoutingProxy struct {
	// URL is http://127.0.0.1:<port>.
	URL    string
	ln     net.Listener
	mu     sync.Mutex
	routes map[string]string
	srv    *http.Server
}

// NewRoutingProxy starts a proxy with no routes.
func NewRoutingProxy() *RoutingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	p := &RoutingProxy{URL: "http://" + ln.Addr().String(), ln: ln, routes: map[string]string{}}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p
}

// Route sends CONNECT hostport to addr.
func (p *RoutingProxy) Route(hostport, addr string) {
	p.mu.Lock()
	p.routes[hostport] = addr
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *RoutingProxy) Close() { p.srv.Close() }

func (p *RoutingProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "testoidc proxy: only CONNECT", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	addr, ok := p.routes[r.Host]
	p.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("testoidc proxy: no route to %s", r.Host), http.StatusBadGateway)
		return
	}
	upstream, err := net.Dial("tcp", addr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	fmt.Fprint(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		defer upstream.Close()
		defer conn.Close()
		io.Copy(upstream, bufferedReader(buf))
	}()
	go func() {
		defer upstream.Close()
		defer conn.Close()
		io.Copy(conn, upstream)
	}()
}

func bufferedReader(buf *bufio.ReadWriter) io.Reader { return buf.Reader }
