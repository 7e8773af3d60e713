// Command dbmanager is the Wharf database-manager Lambda (provided.al2023,
// arm64, handler "bootstrap"). It reads its settings from the environment
// (see the Env constants of package dbmanager), builds its clients once and
// serves both direct action requests and CloudFormation custom-resource
// events. The logic lives in package github.com/wharf-paas/wharf/dbmanager.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/wharf-paas/wharf/dbmanager"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h := &dbmanager.Handler{Logger: logger}
	actions, err := setup(context.Background())
	if err != nil {
		// Keep serving: every request then fails with this error, so a
		// CloudFormation custom resource gets a FAILED answer at once.
		logger.Error("configuration error", "error", err.Error())
		h.InitError = err
	} else {
		h.Actions = actions
	}
	lambda.Start(h.Handle)
}

func setup(ctx context.Context) (*dbmanager.Manager, error) {
	cfg, secretARN, err := dbmanager.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws configuration: %w", err)
	}
	tokens := dbmanager.IAMTokens{Region: awsCfg.Region, Credentials: awsCfg.Credentials}
	passwords := &dbmanager.SecretPassword{Client: secretsmanager.NewFromConfig(awsCfg), SecretID: secretARN}
	m, err := dbmanager.NewManager(cfg, tokens, passwords)
	if err != nil {
		return nil, fmt.Errorf("configure manager: %w", err)
	}
	return m, nil
}
