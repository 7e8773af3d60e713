package account

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/wharf-paas/wharf/contract"
)

// DefaultPrefix is the resource prefix used when AccountProps.Prefix is nil
// (contract.DefaultPrefix).
const DefaultPrefix = contract.DefaultPrefix

// DefaultCdkQualifier is the CDK bootstrap qualifier used when
// AccountProps.CdkBootstrapQualifier is nil (the CDK CLI's default).
const DefaultCdkQualifier = "hnb659fds"

// trustPolicyLimit is IAM's default quota for the size of a role trust
// policy (contract.TrustPolicyDefaultLimit).
const trustPolicyLimit = contract.TrustPolicyDefaultLimit

// AccountProps configures an Account. Every field maps one-to-one to the
// account section of the platform config file.
type AccountProps struct {
	// Prefix is the resource prefix that namespaces every Wharf name in the
	// account (roles, SSM paths, stacks).
	// Default: "wharf".
	Prefix *string
	// OIDCIssuerURL is the URL of the OpenID Connect issuer users log in
	// with, exactly as it appears in the `iss` claim of its ID tokens
	// (https://, no port, no query). Required.
	OIDCIssuerURL *string
	// OIDCClientIDs are the client IDs (audiences, the `aud` claim) of the
	// Wharf login client at the issuer. Required, at least one.
	OIDCClientIDs []string
	// OIDCThumbprints are optional SHA-1 thumbprints of the issuer's TLS
	// certificate (40 hex digits each, at most 5).
	// Default: none; IAM fetches and trusts the issuer's certificate chain.
	OIDCThumbprints []string
	// Administrators are the email addresses (the `email` claim) of the users
	// who may assume the admin role. Required, at least one.
	Administrators []string
	// ControlPlaneAccountID is the 12-digit ID of the AWS account that runs
	// the Wharf control plane. Required.
	ControlPlaneAccountID *string
	// ControlPlaneEventBusArn is the ARN of the control plane's event bus;
	// Parameter Store changes under /<prefix>/ are forwarded to it. Required.
	ControlPlaneEventBusArn *string
	// ObserverExternalID is the external ID the control plane must present
	// to assume the observer role (2-1224 characters of [A-Za-z0-9+=,.@:/_-]).
	// Required.
	ObserverExternalID *string
	// CdkBootstrapQualifier is the qualifier of the CDK bootstrap stack in
	// this account; the admin role may assume the bootstrap roles
	// cdk-<qualifier>-* to run `cdk deploy`.
	// Default: "hnb659fds".
	CdkBootstrapQualifier *string
	// AdminManagedPolicies are extra managed policies attached to the admin
	// role (for example ReadOnlyAccess for console browsing).
	// Default: none; the admin role can only deploy through the CDK
	// bootstrap roles and manage parameters under /<prefix>/.
	AdminManagedPolicies []awsiam.IManagedPolicy
}

var (
	emailRe      = regexp.MustCompile(`^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$`)
	externalIDRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/_-]+$`)
	thumbprintRe = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	qualifierRe  = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
	busArnRe     = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:([0-9]{12}):event-bus/[A-Za-z0-9._-]{1,256}$`)
	clientIDRe   = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
)

// ValidatePrefix is contract.ValidatePrefix, kept while the other
// constructs move to the contract package.
func ValidatePrefix(prefix string) error { return contract.ValidatePrefix(prefix) }

// Validate checks every field and returns all problems at once, each naming
// the field and the rule it breaks. NewAccount panics with the same error.
func (p *AccountProps) Validate() error {
	if p == nil {
		return errors.New("account props: must not be nil")
	}
	var errs []error
	if err := contract.ValidatePrefix(p.prefix()); err != nil {
		errs = append(errs, err)
	}
	issuer := deref(p.OIDCIssuerURL)
	if _, err := issuerKey(issuer); err != nil {
		errs = append(errs, err)
	}
	if len(p.OIDCClientIDs) == 0 {
		errs = append(errs, errors.New("oidcClientIds: at least one client ID is required"))
	}
	if len(p.OIDCClientIDs) > 100 {
		errs = append(errs, fmt.Errorf("oidcClientIds: %d client IDs, IAM allows at most 100", len(p.OIDCClientIDs)))
	}
	seen := map[string]bool{}
	for _, id := range p.OIDCClientIDs {
		if !clientIDRe.MatchString(id) {
			errs = append(errs, fmt.Errorf("oidcClientIds: %q must be 1-255 printable characters without spaces", id))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("oidcClientIds: %q is listed twice", id))
		}
		seen[id] = true
	}
	if len(p.OIDCThumbprints) > 5 {
		errs = append(errs, fmt.Errorf("oidcThumbprints: %d thumbprints, IAM allows at most 5", len(p.OIDCThumbprints)))
	}
	for _, tp := range p.OIDCThumbprints {
		if !thumbprintRe.MatchString(tp) {
			errs = append(errs, fmt.Errorf("oidcThumbprints: %q must be 40 hexadecimal digits (a SHA-1 thumbprint)", tp))
		}
	}
	if len(p.Administrators) == 0 {
		errs = append(errs, errors.New("administrators: at least one administrator email is required"))
	}
	seenAdmin := map[string]bool{}
	for _, email := range p.Administrators {
		if len(email) > 254 || !emailRe.MatchString(email) {
			errs = append(errs, fmt.Errorf("administrators: %q is not an email address (name@domain.tld, no spaces or commas)", email))
			continue
		}
		lower := strings.ToLower(email)
		if seenAdmin[lower] {
			errs = append(errs, fmt.Errorf("administrators: %q is listed twice (emails compare case-insensitively)", email))
		}
		seenAdmin[lower] = true
	}
	if key, err := issuerKey(issuer); err == nil && len(p.Administrators) > 0 && len(p.OIDCClientIDs) > 0 {
		if n := trustPolicySize(key, p.OIDCClientIDs, p.Administrators); n > trustPolicyLimit {
			errs = append(errs, errors.New(contract.TrustPolicyError("administrators", n, p.Administrators)))
		}
	}
	if contract.ValidateAccountID(deref(p.ControlPlaneAccountID)) != nil {
		errs = append(errs, fmt.Errorf("controlPlaneAccountId %q: must be a 12-digit AWS account ID", deref(p.ControlPlaneAccountID)))
	}
	if m := busArnRe.FindStringSubmatch(deref(p.ControlPlaneEventBusArn)); m == nil {
		errs = append(errs, fmt.Errorf("controlPlaneEventBusArn %q: must be an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)", deref(p.ControlPlaneEventBusArn)))
	} else if contract.ValidateAccountID(deref(p.ControlPlaneAccountID)) == nil && m[1] != deref(p.ControlPlaneAccountID) {
		errs = append(errs, fmt.Errorf("controlPlaneEventBusArn %q: must be in the control plane account %s", deref(p.ControlPlaneEventBusArn), deref(p.ControlPlaneAccountID)))
	}
	if ext := deref(p.ObserverExternalID); len(ext) < 2 || len(ext) > 1224 || !externalIDRe.MatchString(ext) {
		errs = append(errs, errors.New("observerExternalId: must be 2-1224 characters of letters, digits and +=,.@:/_-"))
	}
	if p.CdkBootstrapQualifier != nil && !qualifierRe.MatchString(*p.CdkBootstrapQualifier) {
		errs = append(errs, fmt.Errorf("cdkBootstrapQualifier %q: must be 1-10 lowercase letters or digits", *p.CdkBootstrapQualifier))
	}
	return errors.Join(errs...)
}

func (p *AccountProps) prefix() string {
	if p.Prefix == nil {
		return DefaultPrefix
	}
	return *p.Prefix
}

func (p *AccountProps) qualifier() string {
	if p.CdkBootstrapQualifier == nil {
		return DefaultCdkQualifier
	}
	return *p.CdkBootstrapQualifier
}

// issuerKey returns the issuer as IAM names it in condition keys: the URL
// without its https:// scheme (host plus any path).
func issuerKey(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("oidcIssuerUrl %q: must be an https:// URL with a host and no query, fragment or credentials", issuer)
	}
	if u.Port() != "" {
		return "", fmt.Errorf("oidcIssuerUrl %q: must not contain a port (IAM rejects ports)", issuer)
	}
	if len(issuer) > 255 {
		return "", fmt.Errorf("oidcIssuerUrl %q: must be at most 255 characters", issuer)
	}
	return strings.TrimPrefix(issuer, "https://"), nil
}

// trustPolicySize estimates the length of the admin role's trust policy as
// IAM counts it (contract.TrustPolicySize: one statement).
func trustPolicySize(key string, clientIDs, admins []string) int {
	return contract.TrustPolicySize(key, clientIDs, admins)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
