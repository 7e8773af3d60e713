package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// siteSources are the files of web/ that determine the built site. The
// build's output depends on nothing else (Vite writes no timestamps or
// absolute paths), so their hash names the build.
var siteSources = []string{"package.json", "package-lock.json", "index.html", "vite.config.ts", "tsconfig.json", "src"}

// WebDir is the dashboard's source directory: the web/ folder of the Wharf
// module this package was compiled from.
func WebDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "web")
}

// SourceHash hashes the site's sources in webDir (names and contents, in a
// fixed order). Tests and BuildSite use it; it changes exactly when a
// source that reaches the build changes.
func SourceHash(webDir string) (string, error) {
	h := sha256.New()
	for _, top := range siteSources {
		root := filepath.Join(webDir, top)
		var files []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && !strings.HasSuffix(p, ".test.ts") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("dashboard sources: %w", err)
		}
		sort.Strings(files)
		for _, f := range files {
			rel, _ := filepath.Rel(webDir, f)
			b, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
)

// BuildSite builds the dashboard from webDir with the pinned npm toolchain
// (npm ci from package-lock.json, then vite build) and returns the directory
// of the built site. Builds are cached by SourceHash under the user cache
// directory, so synthesizing again without source changes builds nothing
// and the CDK asset hash stays the same. When webDir is not writable (the
// Go module cache), the sources are copied first.
func BuildSite(webDir string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	sum, err := SourceHash(webDir)
	if err != nil {
		return "", err
	}
	if d, ok := buildCache[sum]; ok {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "wharf", "dashboard-"+sum)
	if _, err := os.Stat(filepath.Join(out, "index.html")); err == nil {
		buildCache[sum] = out
		return out, nil
	}
	// Builds in other processes (go test runs packages in parallel) share
	// web/ and the cache: one at a time.
	if err := os.MkdirAll(filepath.Join(cache, "wharf"), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, "wharf", "dashboard-build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(filepath.Join(out, "index.html")); err == nil {
		buildCache[sum] = out
		return out, nil
	}
	src := webDir
	if !writable(webDir) {
		src = filepath.Join(cache, "wharf", "web-src-"+sum)
		if err := copySources(webDir, src); err != nil {
			return "", err
		}
	}
	if !installed(src) {
		if err := npm(src, "ci", "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
			return "", err
		}
	}
	tmp := out + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := npm(src, "exec", "--", "vite", "build", "--outDir", tmp, "--emptyOutDir", "--logLevel", "warn"); err != nil {
		return "", err
	}
	_ = os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	buildCache[sum] = out
	return out, nil
}

// installed reports whether node_modules matches package-lock.json (npm
// writes node_modules/.package-lock.json after an install).
func installed(dir string) bool {
	lock, err1 := os.Stat(filepath.Join(dir, "package-lock.json"))
	done, err2 := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	return err1 == nil && err2 == nil && !done.ModTime().Before(lock.ModTime())
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".wharf-write-test-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

func npm(dir string, args ...string) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("dashboard: building the site needs Node.js and npm (see README set-up)")
	}
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_UPDATE_NOTIFIER=1", "npm_config_fund=false", "npm_config_audit=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("dashboard: npm %s in %s: %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func copySources(from, to string) error {
	for _, top := range siteSources {
		err := filepath.WalkDir(filepath.Join(from, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(from, p)
			dst := filepath.Join(to, rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			o, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(o, in); err != nil {
				o.Close()
				return err
			}
			return o.Close()
		})
		if err != nil {
			return fmt.Errorf("dashboard: copy sources: %w", err)
		}
	}
	return nil
}
