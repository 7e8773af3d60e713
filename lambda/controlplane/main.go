// Command controlplane is the Wharf control plane's Lambda entry point. It
// reads its configuration from the environment, builds the AWS clients and
// the state machine once per execution environment, and hands every
// EventBridge event to controlplane.ControlPlane.Handle. The logic lives in
// package controlplane.
//
// Environment:
//
//	WHARF_TABLE          DynamoDB table of app state, deploy history and event IDs (required)
//	WHARF_REGISTRY_FILE  path of a file holding the JSON contract.Registry: the
//	                     accounts and apps served; the construct sets
//	                     /opt/wharf/registry.json, a file of the registry layer
//	WHARF_REGISTRY       the registry JSON itself, read only when WHARF_REGISTRY_FILE
//	                     is not set (tests and local runs); one of the two is required
//	WHARF_PREFIX         resource prefix, used when the registry names none; must
//	                     match the registry's prefix when both are set
//	WHARF_ACCOUNT_ID     the control plane's own account (12 digits): a "Scheduled
//	                     Event" from any other account is rejected, not swept
//	                     (controlplane.Options.SweepAccountID); empty: any account
//	WHARF_ENDPOINT_URL   send every AWS call to this URL (tests); AWS_ENDPOINT_URL and
//	                     AWS_ENDPOINT_URL_<SERVICE> are honoured by the SDK as usual
//	WHARF_S3_PATH_STYLE  "true" for S3 path-style addressing (default: true when an
//	                     endpoint override is set)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/awsclients"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cp, err := setup(context.Background(), os.Getenv, logger)
	if err != nil {
		logger.Error("control plane init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, ev events.CloudWatchEvent) error {
		return cp.Handle(ctx, ev)
	})
}

// settings is the configuration read from the environment.
type settings struct {
	table     string
	registry  contract.Registry
	account   string // WHARF_ACCOUNT_ID: the only account the sweep is accepted from
	endpoint  string
	pathStyle bool
	override  bool // some endpoint override is set: a test environment
}

// readRegistry returns the registry JSON and the name of where it came from
// (for messages): the file named by WHARF_REGISTRY_FILE if that is set, else
// WHARF_REGISTRY.
func readRegistry(getenv func(string) string) (raw []byte, source string, err error) {
	if path := getenv("WHARF_REGISTRY_FILE"); path != "" {
		source = fmt.Sprintf("WHARF_REGISTRY_FILE %s", path)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, source, fmt.Errorf("%s: cannot read the registry file: %w", source, err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, source, fmt.Errorf("%s: the registry file is empty", source)
		}
		return b, source, nil
	}
	if raw := getenv("WHARF_REGISTRY"); raw != "" {
		return []byte(raw), "WHARF_REGISTRY", nil
	}
	return nil, "", errors.New("no registry: set WHARF_REGISTRY_FILE to the path of the registry JSON file (the construct sets /opt/wharf/registry.json, in the registry layer) or WHARF_REGISTRY to the JSON itself")
}

func readSettings(getenv func(string) string) (settings, error) {
	var s settings
	s.table = getenv("WHARF_TABLE")
	if s.table == "" {
		return s, errors.New("WHARF_TABLE is empty: the name of the control plane's DynamoDB table is required")
	}
	raw, source, err := readRegistry(getenv)
	if err != nil {
		return s, err
	}
	reg, err := contract.ParseRegistry(raw)
	if err != nil {
		return s, fmt.Errorf("%s: %w", source, err)
	}
	if p := getenv("WHARF_PREFIX"); p != "" {
		var probe struct {
			Prefix string `json:"prefix"`
		}
		_ = json.Unmarshal(raw, &probe) // ParseRegistry already accepted it
		switch {
		case probe.Prefix == "":
			reg.Prefix = p
			if err := reg.Validate(); err != nil {
				return s, fmt.Errorf("WHARF_PREFIX: %w", err)
			}
		case probe.Prefix != p:
			return s, fmt.Errorf("WHARF_PREFIX %q differs from the registry's prefix %q: they must match", p, probe.Prefix)
		}
	}
	s.registry = reg
	if a := getenv("WHARF_ACCOUNT_ID"); a != "" {
		if contract.ValidateAccountID(a) != nil {
			return s, fmt.Errorf("WHARF_ACCOUNT_ID %q: must be the control plane's 12-digit AWS account ID (or unset to accept sweeps from any account)", a)
		}
		s.account = a
	}
	s.endpoint = getenv("WHARF_ENDPOINT_URL")
	s.override = s.endpoint != "" || getenv("AWS_ENDPOINT_URL") != "" || getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || getenv("AWS_ENDPOINT_URL_S3") != ""
	s.pathStyle = s.override
	if v := getenv("WHARF_S3_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("WHARF_S3_PATH_STYLE %q: must be true or false", v)
		}
		s.pathStyle = b
	}
	return s, nil
}

// setup builds the state machine with real AWS clients.
func setup(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*controlplane.ControlPlane, error) {
	s, err := readSettings(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	opts := []awsclients.Option{awsclients.WithS3PathStyle(s.pathStyle)}
	if s.endpoint != "" {
		cfg.BaseEndpoint = aws.String(s.endpoint)
		opts = append(opts, awsclients.WithEndpointURL(s.endpoint))
	}
	provider, err := awsclients.New(cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("build client provider: %w", err)
	}
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// Local emulators send a CRC32 header that does not match the
		// body; real DynamoDB is only reached without overrides.
		o.DisableValidateResponseChecksum = s.override
	})
	cp, err := controlplane.New(controlplane.Options{
		Registry:       s.registry,
		Store:          controlplane.NewDynamoStore(ddb, s.table),
		Clients:        provider,
		Now:            time.Now,
		Logger:         logger,
		SweepAccountID: s.account,
	})
	if err != nil {
		return nil, fmt.Errorf("build control plane: %w", err)
	}
	return cp, nil
}
