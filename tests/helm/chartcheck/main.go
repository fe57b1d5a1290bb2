// causeway-chart-check: the test of helm/causeway (tests/helm/README.md).
//
//		causeway-chart-check --source SRC --causeway BIN --node NODE --out DIR
//
//	 1. Every value in values.yaml is read by a template and every value a template reads is defined.
//	 2. The chart's copies of the alert rules and the dashboard equal monitoring/'s.
//	 3. The chart renders with its defaults and with each helm/examples/*.yaml; each rendering's
//	    manifests fit together (checks.go) and its configuration passes `causeway check-config`
//	    (references to mounted Secrets are pointed at stand-in files first).
//	 4. Each tests/helm/bad-values/*.yaml fails to render with the error its first line names.
//	 5. All manifests are validated against the Kubernetes schemas (validate.mjs, one node process).
//
// Writes every rendering to DIR/<case>/ (manifests.yaml, manifests.json, causeway.yaml) for
// inspection; prints one line per problem and exits 1 if there is any.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	source := flag.String("source", ".", "the source tree")
	causeway := flag.String("causeway", "", "the causeway binary (for check-config)")
	node := flag.String("node", "node", "the node binary")
	out := flag.String("out", "", "where to write the renderings")
	flag.Parse()
	if *causeway == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: causeway-chart-check --source SRC --causeway BIN --out DIR [--node NODE]")
		os.Exit(2)
	}
	problems := run(*source, *causeway, *node, *out)
	for _, p := range problems {
		fmt.Println("FAIL:", p)
	}
	if len(problems) > 0 {
		fmt.Printf("chart check: %d problem(s); renderings in %s\n", len(problems), *out)
		os.Exit(1)
	}
	fmt.Println("chart check: passed")
}

func run(source, causeway, node, out string) []string {
	var problems []string
	fail := func(format string, args ...interface{}) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	chartDir := filepath.Join(source, "helm", "causeway")
	chart, err := loadChart(chartDir)
	if err != nil {
		return []string{err.Error()}
	}
	if err := os.RemoveAll(out); err != nil {
		return []string{err.Error()}
	}

	// 1. Values read and defined.
	usage, err := checkValueUsage(chart)
	if err != nil {
		fail("parsing the templates: %v", err)
	}
	problems = append(problems, usage...)

	// 2. Copies of monitoring/ files.
	for copy, original := range map[string]string{
		"files/causeway-alerts.yml":     "monitoring/prometheus/causeway-alerts.yml",
		"files/causeway-dashboard.json": "monitoring/grafana/causeway-dashboard.json",
	} {
		want, err := os.ReadFile(filepath.Join(source, original))
		if err != nil {
			fail("%v", err)
		} else if !bytes.Equal(chart.Files[copy], want) {
			fail("helm/causeway/%s differs from %s: cp %s helm/causeway/%s", copy, original, original, copy)
		}
	}

	// 3. Renderings.
	cases := map[string]string{"default": ""}
	examples, _ := filepath.Glob(filepath.Join(source, "helm", "examples", "*.yaml"))
	for _, e := range examples {
		cases[strings.TrimSuffix(filepath.Base(e), ".yaml")] = e
	}
	if len(examples) == 0 {
		fail("no example values in helm/examples/")
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	var jsonFiles []string
	configs := 0
	for _, name := range names {
		dir := filepath.Join(out, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return append(problems, err.Error())
		}
		values := chart.Values
		pending := ""
		if file := cases[name]; file != "" {
			pending = neededFeatures(file)
			over, err := readYAMLMap(file)
			if err != nil {
				fail("%v", err)
				continue
			}
			values = coalesce(chart.Values, over)
		}
		rendered, err := render(chart, values, Release{Name: "causeway", Namespace: "replication"})
		if err != nil {
			fail("%s: render: %v", name, err)
			continue
		}
		docs, sources, err := manifests(rendered)
		if err != nil {
			fail("%s: %v", name, err)
			continue
		}
		var all strings.Builder
		for _, r := range rendered {
			if !strings.HasSuffix(r.Template, "NOTES.txt") && strings.TrimSpace(r.Text) != "" {
				fmt.Fprintf(&all, "---\n# Source: %s\n%s\n", r.Template, strings.TrimSpace(r.Text))
			}
		}
		os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(all.String()), 0o644)
		var entries []map[string]interface{}
		for i, d := range docs {
			entries = append(entries, map[string]interface{}{"source": sources[i], "doc": d})
		}
		data, err := json.MarshalIndent(entries, "", " ")
		if err != nil {
			fail("%s: manifests as JSON: %v", name, err)
			continue
		}
		jsonFile := filepath.Join(dir, "manifests.json")
		os.WriteFile(jsonFile, data, 0o644)
		jsonFiles = append(jsonFiles, jsonFile)

		config := renderedConfig(docs, values)
		for _, p := range checkManifests(docs, values, config) {
			fail("%s: %s", name, p)
		}
		if config == "" {
			continue // an existing ConfigMap: nothing rendered to check
		}
		configs++
		output, ok := checkConfig(causeway, dir, config)
		switch {
		case pending == "" && !ok:
			fail("%s: causeway check-config on the rendered configuration:\n%s", name, output)
		case pending != "" && ok:
			fail("%s: the configuration loads now, so its features (%s) have landed: delete the "+
				"`# needs:` line of helm/examples/%s.yaml", name, pending, name)
		case pending != "" && !pendingRejection.MatchString(output):
			fail("%s (needs %s): check-config fails for another reason than the missing features:\n%s",
				name, pending, output)
		}
	}

	// 4. Values the chart must refuse.
	bad, _ := filepath.Glob(filepath.Join(source, "tests", "helm", "bad-values", "*.yaml"))
	for _, file := range bad {
		text, _ := os.ReadFile(file)
		first := strings.SplitN(string(text), "\n", 2)[0]
		want := strings.TrimSpace(strings.TrimPrefix(first, "# expect:"))
		if !strings.HasPrefix(first, "# expect:") || want == "" {
			fail("%s: the first line must be `# expect: <part of the error>`", file)
			continue
		}
		over, err := readYAMLMap(file)
		if err != nil {
			fail("%v", err)
			continue
		}
		_, err = render(chart, coalesce(chart.Values, over), Release{Name: "causeway", Namespace: "replication"})
		if err == nil {
			fail("%s renders, but the chart must refuse it (%s)", filepath.Base(file), want)
		} else if !strings.Contains(err.Error(), want) {
			fail("%s fails with %q, expected %q", filepath.Base(file), err.Error(), want)
		}
	}

	// 5. Schemas.
	if len(jsonFiles) > 0 {
		validator := filepath.Join(source, "tests", "helm", "validate.mjs")
		if _, err := os.Stat(filepath.Join(source, "tests", "helm", "node_modules", "kubernetes-models")); err != nil {
			fail("tests/helm/node_modules is missing: run scripts/install-deps.sh (npm ci in tests/helm)")
		} else {
			cmd := exec.Command(node, append([]string{validator}, jsonFiles...)...)
			output, err := cmd.CombinedOutput()
			if err != nil {
				fail("schema validation:\n%s", strings.TrimSpace(string(output)))
			} else {
				fmt.Print(string(output))
			}
		}
	}
	fmt.Printf("rendered %d case(s), checked %d configuration(s), %d refused value file(s)\n",
		len(names), configs, len(bad))
	return problems
}

// renderedConfig is the configuration file the pods mount, when the chart renders it.
func renderedConfig(docs []obj, values obj) string {
	key := str(get(values, "config", "key"))
	for _, d := range docs {
		if d["kind"] == "ConfigMap" && strings.HasSuffix(str(get(d, "metadata", "name")), "-config") {
			return str(get(d, "data", key))
		}
	}
	return ""
}

// neededFeatures is what a values file's `# needs: ...` line names (features being built, whose
// configuration check-config cannot load yet), or "".
func neededFeatures(file string) string {
	text, _ := os.ReadFile(file)
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, "# needs:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "# needs:"))
		}
	}
	return ""
}

// What check-config says about sections and keys of features not yet built.
var pendingRejection = regexp.MustCompile(
	`unknown key '(policies|products|partners|egress|registries|domains)'|not available in this version`)

// checkConfig writes the configuration with its secret references pointed at stand-in files
// under dir/secrets (so it checks the same whether or not the loader resolves references yet) and
// runs `causeway check-config` on it. Returns its output and whether it passed.
func checkConfig(causeway, dir, config string) (string, bool) {
	root := filepath.Join(dir, "secrets")
	env := os.Environ()
	rewritten := config
	for _, r := range references(config) {
		switch r.kind {
		case "env":
			env = append(env, r.path+"=stand-in-secret")
			continue
		case "directory":
			os.MkdirAll(filepath.Join(root, r.path), 0o755)
			os.WriteFile(filepath.Join(root, r.path, r.key), []byte("stand-in-secret\n"), 0o600)
		case "file":
			os.MkdirAll(filepath.Join(root, filepath.Dir(r.path)), 0o755)
			content := "stand-in-secret\n"
			if r.key != "" {
				content = r.key + "=stand-in-secret\n"
				if old, err := os.ReadFile(filepath.Join(root, r.path)); err == nil {
					content = string(old) + content
				}
			}
			os.WriteFile(filepath.Join(root, r.path), []byte(content), 0o600)
		}
		rewritten = strings.ReplaceAll(rewritten, "${"+r.kind+":"+r.path, "${"+r.kind+":"+filepath.Join(root, r.path))
	}
	// Plain paths into mounted Secrets (keys, tokens, certificates) get stand-in files too, in
	// the format each one must have (standins.go).
	for _, path := range plainPaths(config) {
		if !strings.HasPrefix(path, "/etc/causeway/secrets/") {
			continue
		}
		content := standInContent(config, path)
		os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755)
		os.WriteFile(filepath.Join(root, path), []byte(content), 0o600)
		rewritten = strings.ReplaceAll(rewritten, " "+path, " "+filepath.Join(root, path))
	}
	file := filepath.Join(dir, "causeway.yaml")
	if err := os.WriteFile(file, []byte(rewritten), 0o644); err != nil {
		return err.Error(), false
	}
	cmd := exec.Command(causeway, "check-config", file)
	cmd.Env = env
	output, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(output)), err == nil
}
