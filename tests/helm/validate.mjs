// Validates rendered Kubernetes manifests against the OpenAPI schemas of the kubernetes-models
// packages (Kubernetes itself and the prometheus-operator CRDs), and rejects fields the schema
// does not define (a misspelt `readinesProbe` passes the schema validators, which allow extra
// properties; the API server would drop it silently).
//
//   node tests/helm/validate.mjs FILE.json...    each FILE: [{"source": "...", "doc": {...}}, ...]
//
// Prints one line per problem and exits 1 if there is any; otherwise prints how many documents
// were checked. Needs `npm ci` in tests/helm (scripts/install-deps.sh runs it); reads only files
// under node_modules, never the network.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");

// apiVersion -> the module folder holding its classes.
function moduleFor(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

// --- Field names per type, read from the packages' TypeScript declarations -------------------

// "IIoK8sApiCoreV1Container" -> {props: Map(name -> type text)}
const interfaces = new Map();

function readDeclarations(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== "_schemas") readDeclarations(path);
    } else if (entry.endsWith(".d.ts")) {
      parseDeclaration(readFileSync(path, "utf8"));
    }
  }
}

function parseDeclaration(text) {
  const local = new Map();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i].match(/^export interface (\w+)(?: extends ([\w, ]+))? \{/);
    if (!head) continue;
    const props = new Map();
    if (head[2] && head[2].includes("TypeMeta")) {
      props.set("apiVersion", "string");
      props.set("kind", "string");
    }
    let current = null;
    for (i++; i < lines.length && lines[i] !== "}"; i++) {
      const line = lines[i];
      const trimmed = line.trim();
      if (trimmed.startsWith("/**") || trimmed.startsWith("*")) continue;
      const prop = line.match(/^ {4}"([^"]+)"\??: (.*)$/);
      if (prop) {
        current = prop[1];
        props.set(current, prop[2]);
      } else if (current !== null) {
        props.set(current, props.get(current) + " " + trimmed);
      }
    }
    local.set(head[1], { props });
  }
  // export type { IDeploymentSpec as IIoK8sApiAppsV1DeploymentSpec, ... };
  for (const match of text.matchAll(/export type \{([^}]*)\}/g)) {
    for (const part of match[1].split(",")) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (alias && local.has(name)) interfaces.set(alias, local.get(name));
    }
  }
  for (const [name, value] of local) {
    if (!interfaces.has(name)) interfaces.set(name, value);
  }
}

// The named interface a property's type refers to, and whether it is a list or a map of it.
function shape(typeText) {
  const names = [...typeText.matchAll(/\bI[A-Z]\w*/g)].map((m) => m[0]);
  const named = names.find((n) => interfaces.has(n));
  if (!named) return null;
  if (typeText.startsWith("Array<")) return { list: true, type: named };
  if (/^\{\s*\[key: string\]:/.test(typeText)) return { map: true, type: named };
  return { type: named };
}

function unknownFields(value, typeName, path, problems) {
  const type = interfaces.get(typeName);
  if (!type || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (!type.props.has(key)) {
      problems.push(`${childPath}: no such field (known: ${[...type.props.keys()].join(", ")})`);
      continue;
    }
    const s = shape(type.props.get(key));
    if (!s) continue;
    if (s.list && Array.isArray(child)) {
      child.forEach((item, i) => unknownFields(item, s.type, `${childPath}[${i}]`, problems));
    } else if (s.map && child && typeof child === "object") {
      for (const [k, v] of Object.entries(child)) {
        unknownFields(v, s.type, `${childPath}.${k}`, problems);
      }
    } else if (!s.list && !s.map) {
      unknownFields(child, s.type, childPath, problems);
    }
  }
}

// The interface of a top-level kind, from its class module's declaration file.
function topInterface(apiVersion, kind) {
  const text = readFileSync(join(modules, moduleFor(apiVersion, kind) + ".d.ts"), "utf8");
  const alias = text.match(/export type \{ I\w+ as (I\w+),/);
  return alias ? alias[1] : null;
}

// --- Main -------------------------------------------------------------------------------------

readDeclarations(join(modules, "kubernetes-models"));
readDeclarations(join(modules, "@kubernetes-models/apimachinery"));
readDeclarations(join(modules, "@kubernetes-models/prometheus-operator"));

const problems = [];
let checked = 0;
for (const file of process.argv.slice(2)) {
  const entries = JSON.parse(readFileSync(file, "utf8"));
  for (const { source, doc } of entries) {
    const where = `${file}: ${source}: ${doc.kind}/${doc.metadata?.name}`;
    let model;
    try {
      model = await import(moduleFor(doc.apiVersion, doc.kind));
    } catch (e) {
      problems.push(`${where}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
      continue;
    }
    const Kind = model[doc.kind];
    try {
      new Kind(doc).validate();
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
    const fieldProblems = [];
    unknownFields(doc, topInterface(doc.apiVersion, doc.kind), doc.kind, fieldProblems);
    for (const p of fieldProblems) problems.push(`${where}: ${p}`);
    checked++;
  }
}
for (const p of problems) console.log(p);
if (problems.length > 0) {
  console.log(`${problems.length} schema problem(s) in ${checked} manifests`);
  process.exit(1);
}
console.log(`${checked} manifests valid against the Kubernetes and prometheus-operator schemas`);
