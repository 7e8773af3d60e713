package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

// Files (docs/cli.md):
//
//	<config dir>/wharf/settings.json   where the platform descriptor came from
//	<config dir>/wharf/platform.json   the descriptor, as of the last login
//	<cache dir>/wharf/session.json     the OIDC tokens (0600)
//	<cache dir>/wharf/credentials/<app>.json  app role credentials (0600)
//
// Directories are 0700. <config dir> and <cache dir> are
// os.UserConfigDir and os.UserCacheDir (XDG_CONFIG_HOME, XDG_CACHE_HOME on
// Linux).

func configDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory: %w", err)
	}
	return filepath.Join(d, "wharf"), nil
}

func cacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	return filepath.Join(d, "wharf"), nil
}

// writePrivate writes data atomically with mode 0600 in a 0700 directory.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(path, append(data, '\n'))
}

// settings are the per-user CLI settings.
type settings struct {
	// Platform is the URL or absolute file path of the descriptor.
	Platform string `json:"platform"`
}

// loadPlatformFrom reads a descriptor from an https URL (http only for
// loopback addresses) or a file.
func loadPlatformFrom(src string, client *http.Client) (*contract.Platform, []byte, error) {
	var data []byte
	switch {
	case strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://127.0.0.1") || strings.HasPrefix(src, "http://localhost"):
		resp, err := client.Get(src)
		if err != nil {
			return nil, nil, withCode(ExitNetwork, fmt.Errorf("fetch platform descriptor %s: %w", src, err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("fetch platform descriptor %s: HTTP %d", src, resp.StatusCode)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return nil, nil, withCode(ExitNetwork, fmt.Errorf("fetch platform descriptor %s: %w", src, err))
		}
	case strings.HasPrefix(src, "http://"):
		return nil, nil, usagef("--platform %s: use an https:// URL (or a file)", src)
	default:
		var err error
		data, err = os.ReadFile(src)
		if err != nil {
			return nil, nil, fmt.Errorf("read platform descriptor: %w", err)
		}
	}
	p, err := contract.ParsePlatform(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src, err)
	}
	return p, data, nil
}

// platform returns the remembered descriptor (WHARF_PLATFORM, a file or
// URL, overrides it for one command).
func (c *cli) platform() (*contract.Platform, error) {
	if src := os.Getenv(envPlatformFile); src != "" {
		p, _, err := loadPlatformFrom(absIfFile(src), http.DefaultClient)
		return p, err
	}
	dir, err := configDir()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "platform.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, codef(ExitLogin, "no platform yet: run 'wharf login --platform <url or file>' with the address your platform team gave you")
	}
	if err != nil {
		return nil, err
	}
	return contract.ParsePlatform(data)
}

func absIfFile(src string) string {
	if strings.Contains(src, "://") {
		return src
	}
	if a, err := filepath.Abs(src); err == nil {
		return a
	}
	return src
}

// rememberPlatform stores where the descriptor came from and its content.
func rememberPlatform(src string, data []byte) error {
	dir, err := configDir()
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "settings.json"), settings{Platform: src}); err != nil {
		return err
	}
	return writePrivate(filepath.Join(dir, "platform.json"), data)
}

func rememberedPlatformSource() string {
	dir, err := configDir()
	if err != nil {
		return ""
	}
	var s settings
	_, _ = readJSON(filepath.Join(dir, "settings.json"), &s)
	return s.Platform
}

// session is the stored login.
type session struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"clientId"`
	IDToken      string    `json:"idToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	AccessToken  string    `json:"accessToken,omitempty"`
	Expiry       time.Time `json:"expiry"` // the ID token's exp
	Email        string    `json:"email"`
	Subject      string    `json:"sub"`
}

func sessionPath() (string, error) {
	d, err := cacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "session.json"), nil
}

func loadSession() (*session, error) {
	path, err := sessionPath()
	if err != nil {
		return nil, err
	}
	var s session
	ok, err := readJSON(path, &s)
	if err != nil {
		return nil, err
	}
	if !ok || s.IDToken == "" {
		return nil, codef(ExitLogin, "not logged in: run 'wharf login'")
	}
	return &s, nil
}

func saveSession(s *session) error {
	path, err := sessionPath()
	if err != nil {
		return err
	}
	return writeJSON(path, s)
}

// cachedCredentials are an app role's temporary credentials.
type cachedCredentials struct {
	RoleArn         string    `json:"roleArn"`
	Email           string    `json:"email"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration"`
}

func credentialsPath(app string) (string, error) {
	d, err := cacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "credentials", app+".json"), nil
}

// clearCache removes the session and every cached credential.
func clearCache() error {
	d, err := cacheDir()
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d, "session.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(filepath.Join(d, "credentials"))
}
