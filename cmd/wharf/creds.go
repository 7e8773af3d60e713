package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/contract"
)

// Credentials of an app's user role (docs/cli.md, "Credentials").
const (
	// defaultSessionSeconds is STS's minimum, 15 minutes.
	defaultSessionSeconds = 900
	// renewBefore: cached credentials are used until this long before
	// they expire.
	renewBefore = 2 * time.Minute
)

// sessionNameInvalid matches what STS does not accept in RoleSessionName
// ("[\w+=,.@-]*", 2 to 64 characters).
var sessionNameInvalid = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName turns an email into a RoleSessionName: characters STS does
// not allow become '-', at most 64 characters, at least 2.
func SessionName(email string) string {
	s := sessionNameInvalid.ReplaceAllString(email, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// appCredentials is an aws.CredentialsProvider for an app's user role:
// cached credentials while valid, else AssumeRoleWithWebIdentity with the
// (refreshed) ID token. Wrapped in aws.CredentialsCache it renews itself
// during long commands (logs -f, --wait).
type appCredentials struct {
	c        *cli
	pl       *contract.Platform
	app      *contract.PlatformApp
	duration int
}

func (p *appCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	path, err := credentialsPath(p.app.Name)
	if err != nil {
		return aws.Credentials{}, err
	}
	sess, err := p.c.currentSession(ctx, p.pl, false)
	if err != nil {
		return aws.Credentials{}, err
	}
	var cached cachedCredentials
	if ok, _ := readJSON(path, &cached); ok && cached.RoleArn == p.app.UserRoleArn && cached.Email == sess.Email && time.Until(cached.Expiration) > renewBefore {
		return cached.aws(), nil
	}
	out, err := p.assume(ctx, sess)
	var expired interface{ ErrorCode() string }
	if err != nil && errors.As(err, &expired) && expired.ErrorCode() == "ExpiredTokenException" {
		// The ID token expired between our check and STS's: refresh once.
		if sess, err = p.c.currentSession(ctx, p.pl, true); err != nil {
			return aws.Credentials{}, err
		}
		out, err = p.assume(ctx, sess)
	}
	if err != nil {
		return aws.Credentials{}, classifySTSError(p.app, sess.Email, err)
	}
	cached = cachedCredentials{RoleArn: p.app.UserRoleArn, Email: sess.Email, AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken),
		Expiration: aws.ToTime(out.Credentials.Expiration)}
	if err := writeJSON(path, cached); err != nil {
		return aws.Credentials{}, err
	}
	return cached.aws(), nil
}

func (cc cachedCredentials) aws() aws.Credentials {
	return aws.Credentials{AccessKeyID: cc.AccessKeyID, SecretAccessKey: cc.SecretAccessKey, SessionToken: cc.SessionToken,
		CanExpire: true, Expires: cc.Expiration, Source: "wharf"}
}

func (p *appCredentials) assume(ctx context.Context, s *session) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	cfg, err := baseConfig(ctx, p.app.Region, aws.AnonymousCredentials{})
	if err != nil {
		return nil, err
	}
	return sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(p.app.UserRoleArn),
		RoleSessionName:  aws.String(SessionName(s.Email)),
		WebIdentityToken: aws.String(s.IDToken),
		DurationSeconds:  aws.Int32(int32(p.duration)),
	})
}

// classifySTSError says which of the documented failures happened.
func classifySTSError(app *contract.PlatformApp, email string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied":
			return codef(ExitNotAllowed, "%s is not allowed on app %s: its user role's trust policy refused you (ask your platform team to add you to the app's allowedUsers)", email, app.Name)
		case "ExpiredTokenException":
			return codef(ExitLogin, "login expired: run 'wharf login'")
		case "InvalidIdentityToken", "IDPRejectedClaim":
			return codef(ExitLogin, "AWS refused your login token for app %s (%s: %s): run 'wharf login'; if it persists, the account's OIDC provider does not match the platform's issuer or client ID", app.Name, ae.ErrorCode(), ae.ErrorMessage())
		case "IDPCommunicationError":
			return codef(ExitNetwork, "AWS could not reach your issuer to check the login: %s", ae.ErrorMessage())
		}
		return fmt.Errorf("assume the user role of %s: %w", app.Name, err)
	}
	return networkOr(ExitError, fmt.Errorf("assume the user role of %s: %w", app.Name, err))
}

// baseConfig is an SDK config that ignores the user's AWS profiles and
// credentials (wharf works only with its own), honours the SDK's
// AWS_ENDPOINT_URL[_<SERVICE>] variables, and retries throttling.
func baseConfig(ctx context.Context, region string, creds aws.CredentialsProvider) (aws.Config, error) {
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_DEFAULT_PROFILE")
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(creds),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS SDK config: %w", err)
	}
	return cfg, nil
}

// target is an app with a ready SDK config for its user role.
type target struct {
	pl  *contract.Platform
	app *contract.PlatformApp
	cfg aws.Config
}

// target resolves -a/--app and returns its config.
func (c *cli) target(ctx context.Context) (*target, error) {
	name, err := c.appName()
	if err != nil {
		return nil, err
	}
	pl, err := c.platform()
	if err != nil {
		return nil, err
	}
	app := pl.App(name)
	if app == nil {
		var names []string
		for _, a := range pl.Apps {
			names = append(names, a.Name)
		}
		return nil, usagef("no app %q on this platform (apps: %s)", name, strings.Join(names, ", "))
	}
	if app.UserRoleArn == "" {
		return nil, codef(ExitNotAllowed, "app %s has no allowed users, so no user role to log in to", name)
	}
	return c.targetFor(ctx, pl, app)
}

func (c *cli) targetFor(ctx context.Context, pl *contract.Platform, app *contract.PlatformApp) (*target, error) {
	d := c.sessionSeconds
	if d == 0 {
		d = defaultSessionSeconds
	}
	provider := aws.NewCredentialsCache(&appCredentials{c: c, pl: pl, app: app, duration: d}, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = renewBefore
	})
	// Fail early, with the reason, before the first API call.
	if _, err := provider.Retrieve(ctx); err != nil {
		return nil, err
	}
	cfg, err := baseConfig(ctx, app.Region, provider)
	if err != nil {
		return nil, err
	}
	return &target{pl: pl, app: app, cfg: cfg}, nil
}

// awsErr turns an AWS API error into an exit code: AccessDenied is "not
// allowed", a connection failure "network".
func awsErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "AccessDeniedException" {
			return codef(ExitNotAllowed, "%s: not allowed: %s", what, ae.ErrorMessage())
		}
		return fmt.Errorf("%s: %s: %s", what, code, ae.ErrorMessage())
	}
	return networkOr(ExitError, fmt.Errorf("%s: %w", what, err))
}
