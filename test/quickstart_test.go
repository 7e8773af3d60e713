package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wharf-paas/wharf/internal/cdkcli"
)

// TestQuickstartVersions: the aws-cdk-go and CDK CLI versions that
// docs/quickstart.md tells library consumers to pin are those in go.mod
// and package.json, so the document cannot drift from what Wharf is
// tested with.
func TestQuickstartVersions(t *testing.T) {
	root := cdkcli.RepoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "quickstart.md"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	cdkGo := ""
	if m := regexp.MustCompile(`(?m)^\s*github\.com/aws/aws-cdk-go/awscdk/v2 (v\S+)`).FindSubmatch(gomod); m != nil {
		cdkGo = string(m[1])
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	cli := pkg.DevDependencies["aws-cdk"]
	if cdkGo == "" || cli == "" {
		t.Fatalf("versions not found: aws-cdk-go %q, aws-cdk %q", cdkGo, cli)
	}
	for name, pair := range map[string][2]string{
		"aws-cdk-go table row": {`\| aws-cdk-go \(` + "`github.com/aws/aws-cdk-go/awscdk/v2`" + `\) \| (\S+) \|`, cdkGo},
		"CDK CLI table row":    {`\| CDK CLI \(npm ` + "`aws-cdk`" + `\) \| (\S+) \|`, cli},
		"go get line":          {`go get github.com/aws/aws-cdk-go/awscdk/v2@(\S+)`, cdkGo},
		"npm install line":     {`npm install --save-dev --save-exact aws-cdk@(\S+)`, cli},
	} {
		m := regexp.MustCompile(pair[0]).FindSubmatch(doc)
		if m == nil {
			t.Errorf("docs/quickstart.md: no %s", name)
			continue
		}
		if string(m[1]) != pair[1] {
			t.Errorf("docs/quickstart.md %s says %s, want %s", name, m[1], pair[1])
		}
	}
}
