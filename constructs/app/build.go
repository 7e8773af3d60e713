package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"sort"

	"github.com/wharf-paas/wharf/contract"
)

// PackVersion is the version of the buildpacks CLI (pack) the build
// downloads when the app builds with Cloud Native Buildpacks.
const PackVersion = "0.38.2"

// PackSHA256 is the SHA-256 of pack-v<PackVersion>-linux.tgz. The build
// checks the download against it; it is pinned here, never fetched from
// where the binary comes from. Change it together with PackVersion.
const PackSHA256 = "a00765572b7d464b1691d64fd264d9a807b066a7e7805db32b9918d9be16e228"

// DefaultBuilder is the buildpacks builder a repository gets when its
// wharf.json names none.
const DefaultBuilder = "heroku/builder:24"

// DefaultTrustedBuilder is DefaultBuilder pinned by digest: the one builder
// pack trusts (--trust-builder) unless the platform config says otherwise
// (AppProps.TrustedBuilders). Check it against the registry when updating
// (docker buildx imagetools inspect heroku/builder:24).
const DefaultTrustedBuilder = DefaultBuilder + "@sha256:c855fe9810b29dc60e0a0b1ddbbdd815ea5973c9dd754bf539218296fe3f4af2"

// CacheTagPrefix starts the tags of the layer caches in the app's ECR
// repository (cache-docker for BuildKit, cache-cnb for pack); a lifecycle
// rule keeps them.
const CacheTagPrefix = "cache-"

// BuildScriptDir is where the buildspec unpacks the build scripts.
const BuildScriptDir = "/tmp/wharf"

//go:embed buildscript/wharf-build.sh buildscript/wharf-meta.py
var buildScripts embed.FS

// BuildScripts returns the scripts the buildspec runs, by file name
// (wharf-build.sh, wharf-meta.py). Tests run them outside CodeBuild.
func BuildScripts() (map[string][]byte, error) {
	entries, err := fs.ReadDir(buildScripts, "buildscript")
	if err != nil {
		return nil, fmt.Errorf("read build scripts: %w", err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := buildScripts.ReadFile("buildscript/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read build script %s: %w", e.Name(), err)
		}
		out[e.Name()] = b
	}
	return out, nil
}

// scriptBundle is the build scripts as a deterministic gzipped tar, base64
// encoded, so the buildspec carries them inline (no asset, no download) and
// the template changes only when a script does.
func scriptBundle() (string, error) {
	files, err := BuildScripts()
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", fmt.Errorf("gzip build scripts: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o755, Size: int64(len(files[n])), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", fmt.Errorf("tar build script %s: %w", n, err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			return "", fmt.Errorf("tar build script %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("tar build scripts: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("gzip build scripts: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// buildSpec is the app's buildspec (docs/build-metadata.md): unpack the
// scripts, check the source ref and the app config and log in (pre_build);
// build the image, run the app's tests in it, push and write
// .wharf/wharf-build.json (build); send the tests' JUnit report to the
// report group and upload wharf-build.json as the artifact.
func buildSpec() (map[string]interface{}, error) {
	bundle, err := scriptBundle()
	if err != nil {
		return nil, err
	}
	return map[string]interface{}{
		"version": "0.2",
		"env":     map[string]interface{}{"shell": "bash"},
		"phases": map[string]interface{}{
			"pre_build": map[string]interface{}{
				"commands": []string{
					"mkdir -p " + BuildScriptDir + " && echo " + bundle + " | base64 -d | tar -xz -C " + BuildScriptDir,
					"bash " + BuildScriptDir + "/wharf-build.sh prepare",
				},
			},
			// Three commands, so that the phase context of a failed build
			// names the step (the control plane reads it).
			"build": map[string]interface{}{
				"commands": []string{
					"bash " + BuildScriptDir + "/wharf-build.sh image",
					"bash " + BuildScriptDir + "/wharf-build.sh test",
					"bash " + BuildScriptDir + "/wharf-build.sh publish",
				},
			},
		},
		// JUnit files the test step copied out of the test container go
		// to the report group <project>-tests (TestReportGroupName): "If
		// you specify a name, CodeBuild creates a report group for you
		// using your project name, and the name you specified, in the
		// format <project-name>-<report-group-name>. If the named report
		// group already exists, CodeBuild uses that report group." The
		// construct creates it, so the build role needs no
		// CreateReportGroup.
		"reports": map[string]interface{}{
			contract.TestReportName: map[string]interface{}{
				"files":          []string{"**/*"},
				"base-directory": ".wharf/reports",
				"file-format":    "JUNITXML",
			},
		},
		"artifacts": map[string]interface{}{
			"files":          []string{"wharf-build.json"},
			"base-directory": ".wharf",
			"discard-paths":  "yes",
		},
	}, nil
}
