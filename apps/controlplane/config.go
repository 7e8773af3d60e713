package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// DefaultConfigPath is the config read when neither -config nor
// WHARF_CONTROLPLANE_CONFIG names one (relative to the working directory,
// the repository root under `npx cdk synth`).
const DefaultConfigPath = "apps/controlplane/controlplane.example.yaml"

// ConfigEnv is the environment variable naming the config file.
const ConfigEnv = "WHARF_CONTROLPLANE_CONFIG"

// Config is the control plane app's configuration file (YAML). Field names
// are the YAML keys; see controlplane.example.yaml and
// docs/controlplane.md, "Deploying the control plane".
type Config struct {
	// Prefix is the Wharf resource prefix. Default "wharf".
	Prefix string `yaml:"prefix"`
	// Account and Region are where the control plane stack is deployed.
	Account string `yaml:"account"`
	Region  string `yaml:"region"`
	// SweepInterval is a Go duration of whole minutes. Default 1m.
	SweepInterval string `yaml:"sweepInterval"`
	// RetryAttempts is how often EventBridge retries delivery. Default 10.
	RetryAttempts *int `yaml:"retryAttempts"`
	// MaxEventAge is a Go duration from 1m to 6h. Default 1h.
	MaxEventAge string `yaml:"maxEventAge"`
	// Timeout is the Lambda timeout, a Go duration up to 15m. Default 2m.
	Timeout string `yaml:"timeout"`
	// ReservedConcurrency reserves Lambda concurrency. Default none.
	ReservedConcurrency *int `yaml:"reservedConcurrency"`
	// LogRetentionDays is one of CloudWatch Logs' retention values. Default 90.
	LogRetentionDays int `yaml:"logRetentionDays"`
	// AlarmTopicArn is an SNS topic for the alarms. Default none.
	AlarmTopicArn string `yaml:"alarmTopicArn"`
	// TableRemovalPolicy is "retain" (default) or "destroy".
	TableRemovalPolicy string `yaml:"tableRemovalPolicy"`
	// Accounts are the registered customer accounts.
	Accounts []AccountConfig `yaml:"accounts"`
	// Apps are the registered apps.
	Apps []AppConfig `yaml:"apps"`
}

// AccountConfig registers a customer account.
type AccountConfig struct {
	AccountID  string `yaml:"accountId"`
	ExternalID string `yaml:"externalId"`
	// ObserverRoleArn defaults to the naming convention:
	// arn:<partition>:iam::<accountId>:role/<prefix>-account-observer.
	ObserverRoleArn string `yaml:"observerRoleArn"`
}

// AppConfig registers an app.
type AppConfig struct {
	Name       string `yaml:"name"`
	AccountID  string `yaml:"accountId"`
	Region     string `yaml:"region"`
	ExternalID string `yaml:"externalId"`
	// ManagementRoleArn defaults to the naming convention:
	// arn:<partition>:iam::<accountId>:role/<prefix>-app-<name>-management.
	ManagementRoleArn string `yaml:"managementRoleArn"`
}

var (
	topicRE = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
)

// LoadConfig reads, defaults and validates the config file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read control plane config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("control plane config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a config document (unknown keys are errors), fills
// in defaults (prefix, role ARNs by the naming convention) and validates
// it. Every error names the YAML field.
func ParseConfig(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Partition is the AWS partition of the control plane's region.
func (c *Config) Partition() string {
	switch {
	case strings.HasPrefix(c.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(c.Region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func (c *Config) applyDefaults() {
	if c.Prefix == "" {
		c.Prefix = contract.DefaultPrefix
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.ObserverRoleArn == "" && a.AccountID != "" {
			a.ObserverRoleArn = contract.Names{Prefix: c.Prefix}.ObserverRoleARN(c.Partition(), a.AccountID)
		}
	}
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.ManagementRoleArn == "" && a.AccountID != "" && a.Name != "" {
			a.ManagementRoleArn = contract.Names{Prefix: c.Prefix}.ManagementRoleARN(c.Partition(), a.AccountID, a.Name)
		}
	}
}

// Registry returns the registry the config describes.
func (c *Config) Registry() *controlplanestack.Registry {
	r := &controlplanestack.Registry{Prefix: c.Prefix}
	for _, a := range c.Accounts {
		r.Accounts = append(r.Accounts, controlplanestack.AccountRegistration{
			AccountID: a.AccountID, ObserverRoleARN: a.ObserverRoleArn, ExternalID: a.ExternalID,
		})
	}
	for _, a := range c.Apps {
		r.Apps = append(r.Apps, controlplanestack.AppRegistration{
			Name: a.Name, AccountID: a.AccountID, Region: a.Region,
			ManagementRoleARN: a.ManagementRoleArn, ExternalID: a.ExternalID,
		})
	}
	return r
}

// Validate checks the config and returns every problem, each naming its
// field.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := contract.ValidatePrefix(c.Prefix); err != nil {
		return err
	}
	if contract.ValidateAccountID(c.Account) != nil {
		add("account: %q must be the control plane's 12-digit account ID", c.Account)
	}
	if contract.ValidateRegion(c.Region) != nil {
		add("region: %q is not a region name like eu-west-1", c.Region)
	}
	if d, err := minutes("sweepInterval", c.SweepInterval); err != nil {
		errs = append(errs, err)
	} else if d != 0 && (d < time.Minute || d%time.Minute != 0) {
		add("sweepInterval: %s must be a whole number of minutes, at least 1m", c.SweepInterval)
	}
	if r := c.RetryAttempts; r != nil && (*r < 0 || *r > 185) {
		add("retryAttempts: %d must be from 0 to 185", *r)
	}
	if d, err := minutes("maxEventAge", c.MaxEventAge); err != nil {
		errs = append(errs, err)
	} else if d != 0 && (d < time.Minute || d > 6*time.Hour || d%time.Second != 0) {
		add("maxEventAge: %s must be whole seconds from 1m to 6h", c.MaxEventAge)
	}
	if d, err := minutes("timeout", c.Timeout); err != nil {
		errs = append(errs, err)
	} else if d != 0 && (d < time.Second || d > 15*time.Minute || d%time.Second != 0) {
		add("timeout: %s must be whole seconds from 1s to 15m", c.Timeout)
	}
	if r := c.ReservedConcurrency; r != nil && *r < 1 {
		add("reservedConcurrency: %d must be at least 1 (omit it for no reservation)", *r)
	}
	if d := c.LogRetentionDays; d != 0 {
		if _, ok := logretention.Lookup(d); !ok {
			add("logRetentionDays: %d is not a CloudWatch Logs retention; use one of %v", d, logretention.Allowed())
		}
	}
	if c.AlarmTopicArn != "" && !topicRE.MatchString(c.AlarmTopicArn) {
		add("alarmTopicArn: %q is not an SNS topic ARN", c.AlarmTopicArn)
	}
	switch c.TableRemovalPolicy {
	case "", "retain", "destroy":
	default:
		add("tableRemovalPolicy: %q must be retain or destroy", c.TableRemovalPolicy)
	}
	if err := controlplanestack.ValidateRegistry(c.Prefix, *c.Registry()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// minutes parses an optional Go duration, naming field in the error.
func minutes(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like 5m or 1h: %w", field, s, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %s must be positive", field, s)
	}
	return d, nil
}
