package dbmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/wharf-paas/wharf/contract"
)

// TokenSource produces the password the manager presents when it logs in
// with IAM database authentication. endpoint is "host:port".
type TokenSource interface {
	AuthToken(ctx context.Context, endpoint, user string) (string, error)
}

// PasswordSource produces the cluster admin's password. The manager uses it
// only for enable-iam-auth, and only while IAM authentication is not yet on
// for the admin.
type PasswordSource interface {
	AdminPassword(ctx context.Context) (string, error)
}

// IAMTokens builds RDS IAM authentication tokens locally (a SigV4-presigned
// connect request, valid 15 minutes); it makes no network call.
type IAMTokens struct {
	Region      string
	Credentials aws.CredentialsProvider
}

// AuthToken implements [TokenSource]. endpoint must include the port.
func (t IAMTokens) AuthToken(ctx context.Context, endpoint, user string) (string, error) {
	if t.Region == "" {
		return "", fmt.Errorf("build iam auth token: region is empty")
	}
	if t.Credentials == nil {
		return "", fmt.Errorf("build iam auth token: no aws credentials")
	}
	tok, err := auth.BuildAuthToken(ctx, endpoint, t.Region, user, t.Credentials)
	if err != nil {
		return "", fmt.Errorf("build iam auth token for %s at %s: %w", user, endpoint, err)
	}
	return tok, nil
}

// StaticPassword is a [PasswordSource] that returns a fixed password (for
// tests and local development).
type StaticPassword string

// AdminPassword implements [PasswordSource].
func (p StaticPassword) AdminPassword(context.Context) (string, error) { return string(p), nil }

// SecretsManagerAPI is the part of the Secrets Manager client the manager
// uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretPassword reads the admin password from a Secrets Manager secret. The
// secret is either the JSON document RDS and CDK generate (its "password"
// key is used) or the bare password.
type SecretPassword struct {
	Client   SecretsManagerAPI
	SecretID string
}

// AdminPassword implements [PasswordSource].
func (s *SecretPassword) AdminPassword(ctx context.Context) (string, error) {
	if s.SecretID == "" {
		return "", fmt.Errorf("read admin password: no secret configured (%s is empty)", contract.DBManagerEnvAdminSecretARN)
	}
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.SecretID)})
	if err != nil {
		return "", fmt.Errorf("read admin password from secret %s: %w", s.SecretID, err)
	}
	v := aws.ToString(out.SecretString)
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		var doc struct {
			Password string `json:"password"`
		}
		if err := json.Unmarshal([]byte(v), &doc); err != nil {
			return "", fmt.Errorf("read admin password from secret %s: secret is not valid json: %w", s.SecretID, err)
		}
		if doc.Password == "" {
			return "", fmt.Errorf("read admin password from secret %s: json has no \"password\" key", s.SecretID)
		}
		return doc.Password, nil
	}
	if v == "" {
		return "", fmt.Errorf("read admin password from secret %s: secret string is empty", s.SecretID)
	}
	return v, nil
}
