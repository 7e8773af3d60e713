package dbmanager

import (
	"crypto/x509"
	"net"
	"strconv"
	"time"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager/rdsca"
)

// ConfigFromEnv reads the manager's configuration through getenv (usually
// os.Getenv) and returns it with the admin secret ARN.
func ConfigFromEnv(getenv func(string) string) (Config, string, error) {
	cfg := Config{
		Host:        getenv(contract.DBManagerEnvHost),
		AdminUser:   getenv(contract.DBManagerEnvAdminUser),
		SSLMode:     getenv(contract.DBManagerEnvSSLMode),
		SSLRootCert: getenv(contract.DBManagerEnvSSLRootCert),
	}
	if p := getenv(contract.DBManagerEnvPort); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, "", fieldErr(contract.DBManagerEnvPort, contract.DBRuleConfig, "%q must be a port number between 1 and 65535", p)
		}
		cfg.Port = n
	}
	if err := cfg.withDefaults(); err != nil {
		return cfg, "", err
	}
	return cfg, getenv(contract.DBManagerEnvAdminSecretARN), nil
}

// Config says where the cluster is and how to reach it.
type Config struct {
	// Host is the writer endpoint's host name.
	Host string
	// Port defaults to 5432.
	Port int
	// AdminUser is the cluster's admin (master) user.
	AdminUser string
	// SSLMode is a libpq sslmode; default "verify-full": TLS (RDS refuses
	// IAM authentication without it) with the server's certificate checked
	// against RootCAs and its name against Host. "require" encrypts
	// without checking who answers; "disable" is for local tests only.
	SSLMode string
	// SSLRootCert is a CA bundle file, used with verify-ca and verify-full
	// instead of RootCAs.
	SSLRootCert string
	// RootCAs is the trust set for verify-ca and verify-full when
	// SSLRootCert is empty; default the Amazon RDS root CAs embedded in
	// the manager (package rdsca).
	RootCAs *x509.CertPool
	// MaintenanceDatabase is where the manager connects to create its own
	// database and to enable IAM authentication; default "postgres".
	MaintenanceDatabase string
	// ManagerDatabase is the manager's own database, created by the admin
	// with CONNECT revoked from PUBLIC: create and destroy run from there
	// and take the manager's lock there, out of every app role's reach;
	// default "wharf_manager".
	ManagerDatabase string
	// LockTimeout bounds the wait for the manager's lock; an invocation
	// that cannot get it in time fails with rule "busy". Default 15 s.
	LockTimeout time.Duration
	// ConnectTimeout bounds each connection attempt; default 10 s.
	ConnectTimeout time.Duration
}

func (c *Config) withDefaults() *Error {
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.SSLMode == "" {
		c.SSLMode = "verify-full"
	}
	if c.RootCAs == nil && c.SSLRootCert == "" {
		c.RootCAs = rdsca.Pool()
	}
	if c.MaintenanceDatabase == "" {
		c.MaintenanceDatabase = "postgres"
	}
	if c.ManagerDatabase == "" {
		c.ManagerDatabase = contract.DBManagerDatabase
	}
	if c.LockTimeout == 0 {
		c.LockTimeout = 15 * time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	switch {
	case c.Host == "":
		return fieldErr(contract.DBManagerEnvHost, contract.DBRuleConfig, "is required: the cluster's writer endpoint")
	case c.AdminUser == "":
		return fieldErr(contract.DBManagerEnvAdminUser, contract.DBRuleConfig, "is required: the cluster's admin user")
	case !nameRE.MatchString(c.AdminUser):
		return fieldErr(contract.DBManagerEnvAdminUser, contract.DBRuleConfig, "%q must match %s", c.AdminUser, contract.DBNamePattern)
	case !nameRE.MatchString(c.ManagerDatabase):
		return fieldErr("ManagerDatabase", contract.DBRuleConfig, "%q must match %s", c.ManagerDatabase, contract.DBNamePattern)
	case c.Port < 1 || c.Port > 65535:
		return fieldErr(contract.DBManagerEnvPort, contract.DBRuleConfig, "%d must be between 1 and 65535", c.Port)
	}
	switch c.SSLMode {
	case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
	default:
		return fieldErr(contract.DBManagerEnvSSLMode, contract.DBRuleConfig, "%q must be one of disable, allow, prefer, require, verify-ca, verify-full", c.SSLMode)
	}
	return nil
}

func (c Config) endpoint() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}
