package controlplanestack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// The registry reaches the Lambda as a file in a Lambda layer rather than in
// its environment (which Lambda limits to 4 KB for all variables, about 15
// apps' worth of registry). Lambda extracts a layer's files under /opt.
const (
	// RegistryLayerFile is the registry file's path inside the layer.
	RegistryLayerFile = "wharf/registry.json"
	// RegistryFilePath is where the Lambda finds the registry file: the
	// value of EnvRegistryFile.
	RegistryFilePath = "/opt/" + RegistryLayerFile
)

// registryLayerRoot is the folder, under the system temp folder, holding one
// layer folder per registry content.
const registryLayerRoot = "wharf-registry-layer"

// registryLayerDir returns a folder holding exactly one file,
// RegistryLayerFile, with the bytes of regJSON, to be used as the layer's
// asset. The folder is named by the content's hash and rewritten only when
// its content is not exactly that file, so the same registry always gives
// the same folder, the same bytes and the same CDK asset hash, and nothing is
// written to the source tree. Files are written next to the folder and
// renamed into place, so concurrent syntheses never see half a file; modes
// are set explicitly (0644/0755) so that the runtime user can read the
// extracted layer whatever the umask.
func registryLayerDir(regJSON string) (string, error) {
	sum := sha256.Sum256([]byte(regJSON))
	root := filepath.Join(os.TempDir(), registryLayerRoot)
	dir := filepath.Join(root, hex.EncodeToString(sum[:16]))
	if layerDirHolds(dir, regJSON) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("registry layer: create %s: %w", dir, err)
	}
	// Anything else in the folder would change the asset hash and ship in
	// the layer: only our own file belongs there.
	if err := removeAllBut(dir, RegistryLayerFile); err != nil {
		return "", err
	}
	sub, name := path.Split(RegistryLayerFile)
	subDir := filepath.Join(dir, filepath.FromSlash(sub))
	if err := os.MkdirAll(subDir, 0o755); err != nil {
		return "", fmt.Errorf("registry layer: create %s: %w", subDir, err)
	}
	for d := subDir; ; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return "", fmt.Errorf("registry layer: %w", err)
		}
		if d == dir {
			break
		}
	}
	tmp, err := os.CreateTemp(root, ".registry-*.json")
	if err != nil {
		return "", fmt.Errorf("registry layer: temp file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(regJSON); err != nil {
		tmp.Close()
		return "", fmt.Errorf("registry layer: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("registry layer: write %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("registry layer: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(subDir, name)); err != nil {
		return "", fmt.Errorf("registry layer: %w", err)
	}
	if !layerDirHolds(dir, regJSON) {
		return "", fmt.Errorf("registry layer: %s does not hold exactly %s after writing it", dir, RegistryLayerFile)
	}
	return dir, nil
}

// layerDirHolds reports whether dir holds RegistryLayerFile with content
// want, readable by everyone, and nothing else.
func layerDirHolds(dir, want string) bool {
	var files []string
	ok := true
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			ok = ok && info.Mode().Perm() == 0o755
		case d.Type().IsRegular():
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
			ok = ok && info.Mode().Perm() == 0o644
		default:
			ok = false
		}
		return nil
	})
	if err != nil || !ok || len(files) != 1 || files[0] != RegistryLayerFile {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(RegistryLayerFile)))
	return err == nil && string(b) == want
}

// removeAllBut removes every entry under dir that is neither keep (a
// slash-separated path relative to dir) nor one of its parent folders.
func removeAllBut(dir, keep string) error {
	keepers := map[string]bool{}
	for p := keep; p != "." && p != "/"; p = path.Dir(p) {
		keepers[p] = true
	}
	var extra []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." || keepers[rel] && (d.IsDir() == (rel != keep)) {
			return nil
		}
		extra = append(extra, p)
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry layer: inspect %s: %w", dir, err)
	}
	for _, p := range extra {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("registry layer: remove %s: %w", p, err)
		}
	}
	return nil
}
