// The part of Helm this check needs, on Go's text/template (Helm's engine) and sprig (Helm's
// function library): loading a chart, merging values files over values.yaml, and rendering every
// template with Helm's own functions (include, tpl, required, toYaml, fromYaml, toJson) and
// objects (.Values, .Release, .Chart, .Capabilities, .Template, .Files).
//
// It follows helm/pkg/engine and helm/pkg/chartutil for what the causeway chart uses, with one
// deliberate difference: a missing map key is an error (what `helm lint --strict` does), so a
// template that reads a value values.yaml does not define fails here instead of rendering "".
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// Chart is a chart directory read into memory.
type Chart struct {
	Dir       string
	Metadata  map[string]interface{} // Chart.yaml
	Values    map[string]interface{} // values.yaml
	Templates map[string]string      // "causeway/templates/x.yaml" -> text
	Files     map[string][]byte      // every other file, by path relative to the chart
}

func loadChart(dir string) (*Chart, error) {
	chart := &Chart{Dir: dir, Templates: map[string]string{}, Files: map[string][]byte{}}
	meta, err := readYAMLMap(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	chart.Metadata = meta
	name, _ := meta["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("%s/Chart.yaml: no name", dir)
	}
	values, err := readYAMLMap(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	chart.Values = values
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			chart.Templates[name+"/"+rel] = string(data)
		} else {
			chart.Files[rel] = data
		}
		return nil
	})
	return chart, err
}

func (c *Chart) name() string { return c.Metadata["name"].(string) }

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
}

// coalesce merges `over` into a copy of `base` the way Helm merges values files: maps merge key
// by key, anything else replaces, and a null removes the key.
func coalesce(base, over map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		overMap, overIsMap := v.(map[string]interface{})
		baseMap, baseIsMap := out[k].(map[string]interface{})
		if overIsMap && baseIsMap {
			out[k] = coalesce(baseMap, overMap)
		} else {
			out[k] = v
		}
	}
	return out
}

// files is .Files: the chart's non-template files.
type files map[string][]byte

func (f files) Get(name string) string { return string(f[name]) }

// apiVersions is .Capabilities.APIVersions.
type apiVersions []string

func (a apiVersions) Has(version string) bool {
	for _, v := range a {
		if v == version {
			return true
		}
	}
	return false
}

// toYAML is Helm's toYaml: the YAML of a value without the final newline, two-space indents.
func toYAML(v interface{}) (string, error) {
	var buf bytes.Buffer
	encoder := yaml.NewEncoder(&buf)
	encoder.SetIndent(2)
	if err := encoder.Encode(v); err != nil {
		return "", err
	}
	encoder.Close()
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func fromYAML(text string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

// funcNames lists every function a template may call, for parsing templates without running them.
func funcNames() template.FuncMap {
	funcs := helmFuncs(nil)
	// Helm's own functions added at render time, and text/template's builtins.
	for _, name := range []string{"include", "tpl", "and", "or", "not", "len", "index", "slice",
		"print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js",
		"urlquery", "call"} {
		funcs[name] = func() string { return "" }
	}
	return funcs
}

// helmFuncs is sprig's text function map as Helm changes it (no env, no expandenv) plus Helm's
// own functions except include and tpl, which need the template set (render adds them).
func helmFuncs(_ *template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v interface{}) string {
		out, err := toYAML(v)
		if err != nil {
			return ""
		}
		return out
	}
	funcs["fromYaml"] = fromYAML
	funcs["required"] = func(message string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(message)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(message)
		}
		return v, nil
	}
	funcs["fail"] = func(message string) (string, error) { return "", errors.New(message) }
	return funcs
}

// Release is what .Release holds for an install.
type Release struct {
	Name      string
	Namespace string
}

// Rendered is one template's output.
type Rendered struct {
	Template string // "causeway/templates/deployment.yaml"
	Text     string
}

// render runs every template that is not a partial (_*.tpl) with the merged values, as
// `helm template` would, and returns the outputs in name order.
func render(chart *Chart, values map[string]interface{}, release Release) ([]Rendered, error) {
	root := template.New("gotpl").Option("missingkey=error")
	funcs := helmFuncs(root)
	includeDepth := map[string]int{}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if includeDepth[name] > 100 {
			return "", fmt.Errorf("include %q: too deep (a template including itself?)", name)
		}
		includeDepth[name]++
		defer func() { includeDepth[name]-- }()
		var buf strings.Builder
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		return buf.String(), nil
	}
	root.Funcs(funcs)

	names := make([]string, 0, len(chart.Templates))
	for name := range chart.Templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(name).Parse(chart.Templates[name]); err != nil {
			return nil, err
		}
	}

	metadata := map[string]interface{}{}
	for k, v := range chart.Metadata {
		// Helm's chart.Metadata fields: name -> Name, appVersion -> AppVersion.
		metadata[strings.ToUpper(k[:1])+k[1:]] = v
	}
	basePath := chart.name() + "/templates"
	var out []Rendered
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{
			"Values": values,
			"Release": map[string]interface{}{
				"Name": release.Name, "Namespace": release.Namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Chart": metadata,
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{
					"Version": "v1.30.0", "Major": "1", "Minor": "30", "GitVersion": "v1.30.0",
				},
				"APIVersions": apiVersions{"v1", "apps/v1", "policy/v1", "networking.k8s.io/v1"},
			},
			"Template": map[string]interface{}{"Name": name, "BasePath": basePath},
			"Files":    files(chart.Files),
		}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return nil, err
		}
		out = append(out, Rendered{Template: name, Text: buf.String()})
	}
	return out, nil
}

// manifests splits rendered templates into YAML documents (NOTES.txt is not a manifest) and
// parses each; documents that are empty after rendering are dropped, as Helm drops them.
func manifests(rendered []Rendered) ([]map[string]interface{}, []string, error) {
	var docs []map[string]interface{}
	var sources []string
	for _, r := range rendered {
		if strings.HasSuffix(r.Template, "NOTES.txt") {
			continue
		}
		decoder := yaml.NewDecoder(strings.NewReader(r.Text))
		for {
			doc := map[string]interface{}{}
			err := decoder.Decode(&doc)
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, nil, fmt.Errorf("%s: rendered YAML does not parse: %v\n%s", r.Template,
					err, numbered(r.Text))
			}
			if len(doc) == 0 {
				continue
			}
			docs = append(docs, doc)
			sources = append(sources, r.Template)
		}
	}
	return docs, sources, nil
}

func numbered(text string) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}
