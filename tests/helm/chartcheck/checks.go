// What a user would check in the rendered manifests beyond the schemas: that the pieces fit
// together (selectors select the pods, named ports exist, the config file and the secrets the
// configuration refers to are mounted), that a stopping worker has time to drain, and that the
// pod runs without privileges.
package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

type obj = map[string]interface{}

func get(v interface{}, path ...string) interface{} {
	for _, key := range path {
		m, ok := v.(map[string]interface{})
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

func list(v interface{}) []interface{} {
	l, _ := v.([]interface{})
	return l
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func number(v interface{}) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// selects reports whether a matchLabels selector selects pods with these labels.
func selects(selector interface{}, labels interface{}) bool {
	m, ok := selector.(map[string]interface{})
	if !ok || len(m) == 0 {
		return false
	}
	for k, v := range m {
		if get(labels, k) != v {
			return false
		}
	}
	return true
}

// references finds the secret references of a configuration: ${file:/p}, ${file:/p:key},
// ${directory:/dir:key} (issue 15's syntax; `$${` is a literal).
var referencePattern = regexp.MustCompile(`(^|[^$])\$\{(file|directory|env):([^}]*)\}`)

type reference struct {
	kind string // file, directory, env
	path string // the file or folder (env: the variable)
	key  string // the key inside it, if any
}

func references(config string) []reference {
	var out []reference
	for _, m := range referencePattern.FindAllStringSubmatch(config, -1) {
		r := reference{kind: m[2]}
		parts := strings.SplitN(m[3], ":", 2)
		r.path = parts[0]
		if len(parts) == 2 {
			r.key = parts[1]
		}
		out = append(out, r)
	}
	return out
}

// plainPaths are the files under /etc/causeway/ a configuration names outside references.
var plainPathPattern = regexp.MustCompile(`(^|[^:A-Za-z0-9_./-])(/etc/causeway/[A-Za-z0-9._/-]+)`)

func plainPaths(config string) []string {
	var out []string
	for _, m := range plainPathPattern.FindAllStringSubmatch(referencePattern.ReplaceAllString(config, "$1"), -1) {
		out = append(out, m[2])
	}
	return out
}

// egressListenPort is the port of the top-level `egress: {listen: "HOST:PORT"}`, or "".
func egressListenPort(config string) string {
	inEgress := false
	for _, line := range strings.Split(config, "\n") {
		if len(line) > 0 && line[0] != ' ' && line[0] != '#' {
			inEgress = strings.HasPrefix(line, "egress:")
			continue
		}
		trimmed := strings.TrimSpace(line)
		if inEgress && strings.HasPrefix(trimmed, "listen:") {
			value := strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "listen:")), `"'`)
			return value[strings.LastIndex(value, ":")+1:]
		}
	}
	return ""
}

// checkManifests returns the problems of one rendered case; config is the configuration text the
// pods will read ("" when it comes from an existing ConfigMap).
func checkManifests(docs []obj, values obj, config string) []string {
	var problems []string
	fail := func(format string, args ...interface{}) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	byKind := map[string][]obj{}
	for _, d := range docs {
		kind := str(d["kind"])
		byKind[kind] = append(byKind[kind], d)
		if str(get(d, "metadata", "name")) == "" {
			fail("%s without metadata.name", kind)
		}
	}
	if len(byKind["Deployment"]) != 1 {
		fail("expected one Deployment, found %d", len(byKind["Deployment"]))
		return problems
	}
	deployment := byKind["Deployment"][0]
	pod := get(deployment, "spec", "template")
	podLabels := get(pod, "metadata", "labels")
	if !selects(get(deployment, "spec", "selector", "matchLabels"), podLabels) {
		fail("the Deployment's selector does not select its own pods")
	}
	spec := get(pod, "spec")
	containers := list(get(spec, "containers"))
	if len(containers) != 1 {
		fail("expected one container, found %d", len(containers))
		return problems
	}
	c := containers[0]

	// No privileges.
	if get(spec, "securityContext", "runAsNonRoot") != true {
		fail("pod securityContext.runAsNonRoot is not true")
	}
	if get(c, "securityContext", "readOnlyRootFilesystem") != true {
		fail("container securityContext.readOnlyRootFilesystem is not true")
	}
	if get(c, "securityContext", "allowPrivilegeEscalation") != false {
		fail("container securityContext.allowPrivilegeEscalation is not false")
	}
	dropsAll := false
	for _, cap := range list(get(c, "securityContext", "capabilities", "drop")) {
		dropsAll = dropsAll || cap == "ALL"
	}
	if !dropsAll || len(list(get(c, "securityContext", "capabilities", "add"))) > 0 {
		fail("container does not drop ALL capabilities (or adds some)")
	}

	// The arguments of `causeway run`.
	args := map[string]string{}
	for _, a := range list(get(c, "args")) {
		if s := str(a); strings.HasPrefix(s, "--") {
			kv := strings.SplitN(s[2:], "=", 2)
			if len(kv) == 2 {
				args[kv[0]] = kv[1]
			}
		}
	}
	ports := map[string]int{}
	for _, p := range list(get(c, "ports")) {
		n, _ := number(get(p, "containerPort"))
		ports[str(get(p, "name"))] = n
	}

	// Drain: grace period > preStop sleep + drain timeout.
	grace, _ := number(get(spec, "terminationGracePeriodSeconds"))
	drain := args["drain-timeout"]
	drainSeconds, err := strconv.Atoi(strings.TrimSuffix(drain, "s"))
	if !strings.HasSuffix(drain, "s") || err != nil {
		fail("--drain-timeout=%q is not a number of seconds", drain)
	}
	sleep := 0
	if cmd := list(get(c, "lifecycle", "preStop", "exec", "command")); len(cmd) == 2 && cmd[0] == "sleep" {
		sleep, _ = number(cmd[1])
	} else {
		fail("preStop is not `sleep N`: %v", cmd)
	}
	if grace <= sleep+drainSeconds {
		fail("terminationGracePeriodSeconds %d <= preStop %d s + drain %d s", grace, sleep, drainSeconds)
	}

	// Probes and metrics on the port the worker listens on.
	metricsListen := args["metrics-listen"]
	if !strings.HasPrefix(metricsListen, "0.0.0.0:") {
		fail("--metrics-listen=%q does not listen on all addresses", metricsListen)
	} else if port, _ := strconv.Atoi(strings.TrimPrefix(metricsListen, "0.0.0.0:")); port != ports["metrics"] {
		fail("--metrics-listen port %d differs from the container port `metrics` (%d)", port, ports["metrics"])
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if got := str(get(c, probe, "httpGet", "path")); got != path {
			fail("%s path %q, want %q", probe, got, path)
		}
		if got := get(c, probe, "httpGet", "port"); got != "metrics" {
			fail("%s port %v, want the container port `metrics`", probe, got)
		}
	}
	control := args["control-listen"]
	if control != "off" && !strings.HasPrefix(control, "127.0.0.1:") && args["control-tls-cert"] == "" {
		fail("--control-listen=%q without TLS on a non-loopback address (the worker refuses it)", control)
	}

	// Volumes and mounts.
	volumes := map[string]obj{}
	for _, v := range list(get(spec, "volumes")) {
		volumes[str(get(v, "name"))], _ = v.(obj)
	}
	type mount struct{ path, volume string }
	var mounts []mount
	for _, m := range list(get(c, "volumeMounts")) {
		name := str(get(m, "name"))
		if _, ok := volumes[name]; !ok {
			fail("volumeMount %q names no volume", name)
		}
		mounts = append(mounts, mount{str(get(m, "mountPath")), name})
	}
	mountOf := func(path string) (mount, bool) {
		best := mount{}
		for _, m := range mounts {
			if (path == m.path || strings.HasPrefix(path, m.path+"/")) && len(m.path) > len(best.path) {
				best = m
			}
		}
		return best, best.path != ""
	}
	configPath := args["config"]
	if m, ok := mountOf(configPath); !ok {
		fail("--config=%s is not in a mounted volume", configPath)
	} else {
		cm := get(volumes[m.volume], "configMap")
		name := str(get(cm, "name"))
		file := strings.TrimPrefix(configPath, m.path+"/")
		found := false
		for _, item := range list(get(cm, "items")) {
			found = found || str(get(item, "path")) == file
		}
		if !found {
			fail("--config=%s: the config volume has no item %q", configPath, file)
		}
		if existing := str(get(values, "config", "existingConfigMap")); existing != "" {
			if name != existing {
				fail("config volume uses ConfigMap %q, not config.existingConfigMap %q", name, existing)
			}
		} else {
			rendered := false
			for _, d := range byKind["ConfigMap"] {
				if str(get(d, "metadata", "name")) == name && get(d, "data", file) != nil {
					rendered = true
				}
			}
			if !rendered {
				fail("config volume uses ConfigMap %q with key %q, which the chart does not render", name, file)
			}
		}
	}
	// Every file the configuration refers to is inside a mounted Secret.
	for _, r := range references(config) {
		if r.kind == "env" {
			continue
		}
		m, ok := mountOf(r.path)
		if !ok || get(volumes[m.volume], "secret") == nil {
			fail("the configuration refers to %s, which is not inside a mounted Secret (values: secrets)", r.path)
		}
	}

	// Files named by plain paths (ssl.ca.location, key_file, ...) are mounted too.
	for _, path := range plainPaths(config) {
		if _, ok := mountOf(path); !ok {
			fail("the configuration names %s, which is not inside a mounted volume", path)
		}
	}
	// Partner egress: the port the configuration listens on is the one the chart exposes.
	if port := egressListenPort(config); port != "" {
		if enabled, _ := get(values, "egress", "enabled").(bool); !enabled {
			fail("the configuration serves egress on port %s but egress.enabled is false", port)
		} else if p, _ := number(get(values, "egress", "port")); strconv.Itoa(p) != port {
			fail("the configuration's egress.listen port %s differs from egress.port %d", port, p)
		}
	}

	// Everything that selects pods selects these pods; named ports exist.
	for _, svc := range byKind["Service"] {
		if !selects(get(svc, "spec", "selector"), podLabels) {
			fail("Service %s does not select the workers", get(svc, "metadata", "name"))
		}
		for _, p := range list(get(svc, "spec", "ports")) {
			if target := str(get(p, "targetPort")); target != "" {
				if _, ok := ports[target]; !ok {
					fail("Service port %s targets %q, which the container does not expose", get(p, "name"), target)
				}
			}
		}
	}
	for _, pdb := range byKind["PodDisruptionBudget"] {
		if !selects(get(pdb, "spec", "selector", "matchLabels"), podLabels) {
			fail("PodDisruptionBudget does not select the workers")
		}
	}
	for _, tsc := range list(get(spec, "topologySpreadConstraints")) {
		if !selects(get(tsc, "labelSelector", "matchLabels"), podLabels) {
			fail("topologySpreadConstraint on %s does not select the workers", get(tsc, "topologyKey"))
		}
	}
	for _, np := range byKind["NetworkPolicy"] {
		if !selects(get(np, "spec", "podSelector", "matchLabels"), podLabels) {
			fail("NetworkPolicy does not select the workers")
		}
	}
	for _, sm := range byKind["ServiceMonitor"] {
		matched := false
		for _, svc := range byKind["Service"] {
			if selects(get(sm, "spec", "selector", "matchLabels"), get(svc, "metadata", "labels")) {
				matched = true
				for _, e := range list(get(sm, "spec", "endpoints")) {
					found := false
					for _, p := range list(get(svc, "spec", "ports")) {
						found = found || get(p, "name") == get(e, "port")
					}
					if !found {
						fail("ServiceMonitor endpoint port %v is not a port of the Service", get(e, "port"))
					}
				}
			}
		}
		if !matched {
			fail("ServiceMonitor selects no Service of the chart")
		}
	}
	for _, rule := range byKind["PrometheusRule"] {
		if len(list(get(rule, "spec", "groups"))) == 0 {
			fail("PrometheusRule has no rule groups")
		}
	}
	return problems
}
