// Which values the templates read, found by walking the parsed templates (no rendering), so that
// a value no template reads and a template reading a value values.yaml lacks are both caught,
// whatever branch a values file happens to take.
package main

import (
	"fmt"
	"sort"
	"strings"
	"text/template/parse"
)

// valuePaths returns every values path the templates read ("image.tag"), with the first template
// that reads it. `with .Values.x` blocks are followed (inside, `.y` reads x.y); inside a `range`
// over values the elements are free-form, so the ranged list counts as read as a whole.
func valuePaths(templates map[string]string) (map[string]string, error) {
	used := map[string]string{}
	for name, text := range templates {
		trees, err := parse.Parse(name, text, "", "", funcNames())
		if err != nil {
			return nil, err
		}
		for _, tree := range trees {
			if tree.Root != nil {
				walk(tree.Root, nil, name, used)
			}
		}
	}
	return used, nil
}

// walk visits a node; dot is the values path `.` stands for (nil: not a values path).
func walk(node parse.Node, dot []string, source string, used map[string]string) {
	record := func(path []string) {
		if len(path) > 0 {
			key := strings.Join(path, ".")
			if _, ok := used[key]; !ok {
				used[key] = source
			}
		}
	}
	// pathOf: the values path an argument names, if any.
	pathOf := func(arg parse.Node) []string {
		switch n := arg.(type) {
		case *parse.FieldNode:
			if len(n.Ident) > 0 && n.Ident[0] == "Values" {
				return n.Ident[1:]
			}
			if dot != nil {
				return append(append([]string{}, dot...), n.Ident...)
			}
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" && n.Ident[1] == "Values" {
				return n.Ident[2:]
			}
		case *parse.DotNode:
			if dot != nil {
				return append([]string{}, dot...)
			}
		}
		return nil
	}
	var pipe func(p *parse.PipeNode)
	pipe = func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, cmd := range p.Cmds {
			for _, arg := range cmd.Args {
				if path := pathOf(arg); path != nil {
					record(path)
				}
				switch a := arg.(type) {
				case *parse.PipeNode:
					pipe(a)
				case *parse.ChainNode:
					if inner, ok := a.Node.(*parse.PipeNode); ok {
						pipe(inner)
					}
				}
			}
		}
	}
	// The values path a block's pipeline sets `.` to: only `with .Values.x` (one field).
	blockDot := func(p *parse.PipeNode) []string {
		if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
			return nil
		}
		return pathOf(p.Cmds[0].Args[0])
	}
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, child := range n.Nodes {
			walk(child, dot, source, used)
		}
	case *parse.ActionNode:
		pipe(n.Pipe)
	case *parse.IfNode:
		pipe(n.Pipe)
		walk(n.List, dot, source, used)
		if n.ElseList != nil {
			walk(n.ElseList, dot, source, used)
		}
	case *parse.WithNode:
		pipe(n.Pipe)
		walk(n.List, blockDot(n.Pipe), source, used)
		if n.ElseList != nil {
			walk(n.ElseList, dot, source, used)
		}
	case *parse.RangeNode:
		pipe(n.Pipe)
		walk(n.List, nil, source, used)
		if n.ElseList != nil {
			walk(n.ElseList, dot, source, used)
		}
	case *parse.TemplateNode:
		pipe(n.Pipe)
	}
}

// leafPaths lists every leaf of a values map: scalars, lists and empty maps.
func leafPaths(values map[string]interface{}, prefix string, out *[]string) {
	for key, value := range values {
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		if child, ok := value.(map[string]interface{}); ok && len(child) > 0 {
			leafPaths(child, path, out)
		} else {
			*out = append(*out, path)
		}
	}
}

// defined reports whether values.yaml defines a path: every step is a key of a map. Reading past
// a leaf (a key inside a free-form map that is empty by default, e.g. resources.limits) is fine
// when the leaf is a map: a template may read into what users put there.
func defined(values map[string]interface{}, path string) bool {
	current := values
	keys := strings.Split(path, ".")
	for i, key := range keys {
		value, ok := current[key]
		if !ok {
			return false
		}
		child, isMap := value.(map[string]interface{})
		last := i == len(keys)-1
		switch {
		case last:
			return true
		case !isMap:
			return false // reads a key inside a scalar or a list
		case len(child) == 0:
			return true // inside a free-form map that is empty by default
		}
		current = child
	}
	return true
}

// checkValueUsage returns one problem per value no template reads and per value read but not
// defined in values.yaml.
func checkValueUsage(chart *Chart) ([]string, error) {
	used, err := valuePaths(chart.Templates)
	if err != nil {
		return nil, err
	}
	var problems []string
	var leaves []string
	leafPaths(chart.Values, "", &leaves)
	sort.Strings(leaves)
	for _, leaf := range leaves {
		read := false
		for path := range used {
			if leaf == path || strings.HasPrefix(leaf, path+".") {
				read = true
				break
			}
		}
		if !read {
			problems = append(problems, fmt.Sprintf(
				"values.yaml: %s is not read by any template (remove it, or use it)", leaf))
		}
	}
	var paths []string
	for path := range used {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if !defined(chart.Values, path) {
			problems = append(problems, fmt.Sprintf(
				"%s reads .Values.%s, which values.yaml does not define", used[path], path))
		}
	}
	return problems, nil
}
