// Inputs of k8s/test/prometheus-queries.sh, taken from rendered manifests so the test runs the services with the
// configuration the cluster would give them:
//   node prometheus-inputs.mjs env <rendered.yaml> <deployment> <outDir>
//     prints the container's environment (envFrom ConfigMaps, then plain env values) as NAME=VALUE lines, after
//     writing every ConfigMap volume it mounts to <outDir><mountPath>; values that point into a mounted path are
//     rewritten to the copy. Secret volumes are reported on stderr (the test provides what it needs).
//   node prometheus-inputs.mjs rules <rendered.yaml> <interval>
//     prints the PrometheusRule groups as a Prometheus rule file, every group evaluated every <interval>.
//   node prometheus-inputs.mjs queries <rendered.yaml> <dashboards dir> <rate interval>
//     prints one line "kind<TAB>name<TAB>expr" (newlines of expr as spaces) for every dashboard target (Grafana variables
//     substituted), every recording rule's output series, and the left-hand sides of every alert expression
//     (each "and"/"or"/"unless" operand with its top-level comparison removed: the series the threshold is
//     applied to, which exist whether or not the alert fires).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const [mode, rendered, ...rest] = process.argv.slice(2);
const objs = YAML.parseAllDocuments(fs.readFileSync(rendered, "utf8")).map((d) => d.toJSON()).filter(Boolean);
const byKind = (k) => objs.filter((o) => o.kind === k);

if (mode === "env") {
  const [name, outDir] = rest;
  const d = byKind("Deployment").find((x) => x.metadata.name === name);
  if (!d) throw new Error(`no Deployment ${name}`);
  const spec = d.spec.template.spec;
  const c = spec.containers[0];
  const env = {};
  for (const f of c.envFrom || []) {
    const cm = byKind("ConfigMap").find((x) => x.metadata.name === f.configMapRef?.name);
    if (cm) Object.assign(env, cm.data || {});
  }
  for (const e of c.env || []) if (e.value !== undefined) env[e.name] = e.value;
  const mounts = [];
  for (const m of c.volumeMounts || []) {
    const v = (spec.volumes || []).find((x) => x.name === m.name);
    if (v?.configMap) {
      const cm = byKind("ConfigMap").find((x) => x.metadata.name === v.configMap.name);
      if (!cm) throw new Error(`${name}: volume ${m.name} names a missing ConfigMap ${v.configMap.name}`);
      const dir = path.join(outDir, m.mountPath);
      fs.mkdirSync(dir, { recursive: true });
      for (const [k, text] of Object.entries(cm.data || {})) fs.writeFileSync(path.join(dir, k), text);
      mounts.push(m.mountPath);
    } else if (v?.secret) {
      console.error(`${name}: Secret ${v.secret.secretName} mounted at ${m.mountPath}${v.secret.optional ? " (optional)" : ""}`);
    }
  }
  for (const [k, value] of Object.entries(env)) {
    let out = String(value);
    for (const mp of mounts) if (out === mp || out.startsWith(mp + "/")) out = path.join(outDir, out);
    if (out.includes("\n")) throw new Error(`${name}: ${k} has a newline`);
    console.log(`${k}=${out}`);
  }
} else if (mode === "rules") {
  const [interval] = rest;
  const groups = byKind("PrometheusRule").flatMap((r) => r.spec.groups).map((g) => ({ ...g, interval }));
  console.log(YAML.stringify({ groups }));
} else if (mode === "queries") {
  const [dashDir, rateInterval] = rest;
  const subst = (e) => e.replaceAll("$__rate_interval", rateInterval).replaceAll("$__range", rateInterval)
    .replaceAll("$__interval", "2s").replace(/\$\{?namespace\}?/g, "tandem");
  for (const file of fs.readdirSync(dashDir).filter((f) => f.endsWith(".json")).sort()) {
    const dash = JSON.parse(fs.readFileSync(path.join(dashDir, file), "utf8"));
    const panels = (dash.panels || []).flatMap((x) => [x, ...(x.panels || [])]).filter((x) => x.type !== "row");
    for (const p of panels) for (const t of p.targets || [])
      emit("dashboard", `${file}: ${p.title} [${t.refId}]`, subst(t.expr));
  }
  for (const r of byKind("PrometheusRule").flatMap((x) => x.spec.groups.flatMap((g) => g.rules))) {
    if (r.record) emit("record", r.record, r.record);
    if (r.alert) splitOperands(r.expr.trim()).forEach((e, i) => emit("alert", `${r.alert} [${i}]`, stripComparison(e)));
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}

function emit(kind, name, expr) {
  console.log([kind, name, expr.replace(/\s+/g, " ")].join("\t"));
}

// Top-level scan of a PromQL expression: calls f(index, depth) for each character outside strings.
function scan(e, f) {
  let depth = 0, quote = null;
  for (let i = 0; i < e.length; i++) {
    const ch = e[i];
    if (quote) { if (ch === "\\") i++; else if (ch === quote) quote = null; continue; }
    if (ch === '"' || ch === "'" || ch === "`") { quote = ch; continue; }
    if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (f(i, depth) === false) return;
  }
}

function splitOperands(e) {
  const parts = [];
  let start = 0;
  scan(e, (i, depth) => {
    if (depth) return;
    const m = /^\s(and|or|unless)\s/.exec(e.slice(i));
    if (m) { parts.push(e.slice(start, i).trim()); start = i + m[0].length; }
  });
  parts.push(e.slice(start).trim());
  return parts;
}

function stripComparison(e) {
  let cut = -1;
  scan(e, (i, depth) => {
    if (depth || cut >= 0) return;
    const two = e.slice(i, i + 2);
    if (["==", "!=", ">=", "<="].includes(two) || ((e[i] === ">" || e[i] === "<") && e[i + 1] !== "=")) cut = i;
  });
  return cut >= 0 ? e.slice(0, cut).trim() : e;
}
