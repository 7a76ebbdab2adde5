// Offline checks of rendered Tandem manifests (one multi-document YAML file per overlay).
// Usage: node check.mjs <outDir> <name>=<rendered.yaml> ...
// Prints "PASS <check>" / "FAIL <check>: <why>" lines (k8s/test.sh counts them) and writes, into outDir,
// the PrometheusRule groups (rules-<name>.yaml) and every dashboard query as a recording rule
// (dashboard-exprs-<name>.yaml) for promtool.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv from "ajv";

const here = path.dirname(fileURLToPath(import.meta.url));
const k8sDir = path.resolve(here, "..");
const [outDir, ...targets] = process.argv.slice(2);
let failed = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
const check = (name, problems) => (problems.length ? fail(name, problems.join("; ")) : pass(name));

const cnpgSchema = JSON.parse(fs.readFileSync(path.join(here, "schemas/cnpg-cluster.schema.json"), "utf8"));
const validateCnpg = new Ajv({ allErrors: true, strict: false }).compile(cnpgSchema);

// ---- schema: kubernetes-models (Kubernetes 1.32 OpenAPI) and @kubernetes-models/prometheus-operator
async function modelFor(apiVersion, kind) {
  const candidates = apiVersion === "monitoring.coreos.com/v1"
    ? [`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`]
    : [`kubernetes-models/${apiVersion}/${kind}`];
  for (const c of candidates) {
    try { return (await import(c))[kind]; } catch { /* next */ }
  }
  return null;
}

function podSpecs(objs) {
  return objs.filter((o) => o.kind === "Deployment").map((d) => ({ d, spec: d.spec.template.spec }));
}
const envOf = (c) => Object.fromEntries((c.env || []).map((e) => [e.name, e]));
const isGpuDeployment = (d) => d.spec.template.spec.containers.some((c) =>
  ["requests", "limits"].some((k) => c.resources?.[k]?.["nvidia.com/gpu"] !== undefined));

// The workers' batch journal: true when the worker pools have a datasource; checks that all or none do, that it is
// the audit Deployment's (same URL, same Secret), and that the credentials come from a Secret.
function workerJournal(objs, name) {
  const workers = podSpecs(objs).filter(({ d }) => d.metadata.labels?.["app.kubernetes.io/name"] === "worker");
  const audit = podSpecs(objs).find(({ d }) => d.metadata.name === "audit");
  const auditEnv = audit ? envOf(audit.spec.containers.find((c) => c.name === "audit")) : {};
  const keys = ["QUARKUS_DATASOURCE_JDBC_URL", "QUARKUS_DATASOURCE_USERNAME", "QUARKUS_DATASOURCE_PASSWORD"];
  const p = [];
  let on = 0;
  for (const { d, spec } of workers) {
    const env = envOf(spec.containers.find((c) => c.name === "worker") || {});
    if (env.TANDEM_DB_URL || env.TANDEM_DB_USER || env.TANDEM_DB_PASSWORD)
      p.push(`${d.metadata.name}: TANDEM_DB_* set beside the component's QUARKUS_DATASOURCE_* (one source of truth)`);
    const set = keys.filter((k) => env[k]);
    if (!set.length) continue;
    on++;
    for (const k of keys) {
      if (!env[k]) { p.push(`${d.metadata.name}: ${k} missing`); continue; }
      if (JSON.stringify(env[k]) !== JSON.stringify(auditEnv[k]))
        p.push(`${d.metadata.name}: ${k} is not audit's (${JSON.stringify(env[k])} vs ${JSON.stringify(auditEnv[k])})`);
    }
    for (const k of keys.slice(1)) if (env[k] && !env[k].valueFrom?.secretKeyRef) p.push(`${d.metadata.name}: ${k} not from a Secret`);
  }
  if (on && on !== workers.length) p.push(`${on} of ${workers.length} worker pools have the batch journal's datasource`);
  if (on) check(`${name}: worker batch journal: every worker pool has audit's datasource`, p);
  else check(`${name}: worker batch journal off: no worker pool has a datasource`, p);
  return on > 0;
}

async function checkTarget(name, file) {
  const objs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const id = (o) => `${name}: ${o.kind}/${o.metadata.name}`;

  // 1. schema validation of every object
  for (const o of objs) {
    if (o.apiVersion === "postgresql.cnpg.io/v1" && o.kind === "Cluster") {
      check(`${id(o)} validates against the CloudNativePG Cluster schema`,
        validateCnpg(o) ? [] : validateCnpg.errors.map((e) => `${e.instancePath} ${e.message}`));
      continue;
    }
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) { fail(`${id(o)} schema`, `no schema for ${o.apiVersion} ${o.kind}`); continue; }
    try { new Model(o).validate(); pass(`${id(o)} validates against its schema`); }
    catch (e) { fail(`${id(o)} validates against its schema`, e.message); }
  }

  // 2. every container: probes, requests and limits, hardened security context
  for (const { d, spec } of podSpecs(objs)) {
    const p = [];
    if (spec.automountServiceAccountToken !== false) p.push("automountServiceAccountToken is not false");
    const psc = spec.securityContext || {};
    for (const c of [...(spec.initContainers || []), ...spec.containers]) {
      const sc = c.securityContext || {};
      const where = `container ${c.name}`;
      if (!c.readinessProbe) p.push(`${where}: no readinessProbe`);
      if (!c.livenessProbe) p.push(`${where}: no livenessProbe`);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
        if (!probe.grpc && !probe.httpGet) p.push(`${where}: a probe is neither grpc nor httpGet`);
        if (probe.httpGet && c.name !== "vllm" && !String(probe.httpGet.path).startsWith("/q/health"))
          p.push(`${where}: HTTP probe ${probe.httpGet.path} is not /q/health`);
      }
      for (const k of ["requests", "limits"]) for (const r of ["cpu", "memory"])
        if (!c.resources?.[k]?.[r]) p.push(`${where}: no ${k}.${r}`);
      if (sc.allowPrivilegeEscalation !== false) p.push(`${where}: allowPrivilegeEscalation not false`);
      if (sc.privileged === true) p.push(`${where}: privileged`);
      if (sc.readOnlyRootFilesystem !== true) p.push(`${where}: readOnlyRootFilesystem not true`);
      if (!(sc.capabilities?.drop || []).includes("ALL")) p.push(`${where}: capabilities not dropping ALL`);
      if ((sc.capabilities?.add || []).length) p.push(`${where}: adds capabilities`);
      if (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true) p.push(`${where}: runAsNonRoot not true`);
      if ((sc.runAsUser ?? psc.runAsUser) === 0) p.push(`${where}: runs as uid 0`);
      if ((sc.seccompProfile?.type ?? psc.seccompProfile?.type) !== "RuntimeDefault")
        p.push(`${where}: seccompProfile not RuntimeDefault`);
      const tmp = (c.volumeMounts || []).find((m) => m.mountPath === "/tmp");
      const tmpVol = tmp && (spec.volumes || []).find((v) => v.name === tmp.name);
      if (!tmpVol?.emptyDir) p.push(`${where}: no emptyDir on /tmp for the read-only root filesystem`);
    }
    check(`${name}: Deployment/${d.metadata.name} containers have probes, requests, limits and a hardened security context`, p);
  }

  // 3. GPU fields present on GPU worker pools, absent elsewhere
  for (const { d, spec } of podSpecs(objs)) {
    const pool = d.metadata.labels?.["tandem.dev/pool"];
    const gpuPool = d.metadata.name.startsWith("worker-") && pool && pool !== "cpu";
    const hasAffinity = JSON.stringify(spec.affinity || {}).includes("nvidia.com/gpu.product");
    const hasToleration = (spec.tolerations || []).some((t) => t.key === "nvidia.com/gpu");
    if (gpuPool) {
      const p = [];
      const vllm = spec.containers.find((c) => (c.image || "").startsWith("vllm/vllm-openai"));
      const worker = spec.containers.find((c) => (c.image || "").startsWith("tandem/worker-service"));
      if (!vllm) p.push("no vllm/vllm-openai container");
      if (!worker) p.push("no worker-service container beside vLLM");
      if (vllm) {
        if (!vllm.resources?.limits?.["nvidia.com/gpu"]) p.push("vLLM has no nvidia.com/gpu limit");
        const sp = vllm.startupProbe;
        if (!sp || sp.httpGet?.path !== "/health") p.push("vLLM has no /health startupProbe");
        else if ((sp.periodSeconds ?? 10) * (sp.failureThreshold ?? 3) < 900) p.push("vLLM startupProbe allows less than 15 min for model loading");
        const shm = (vllm.volumeMounts || []).find((m) => m.mountPath === "/dev/shm");
        const shmVol = shm && spec.volumes.find((v) => v.name === shm.name);
        if (shmVol?.emptyDir?.medium !== "Memory") p.push("no memory-backed /dev/shm");
        const cacheMount = (vllm.volumeMounts || []).find((m) => m.mountPath === "/models");
        const cacheVol = cacheMount && spec.volumes.find((v) => v.name === cacheMount.name);
        if (!(cacheVol?.ephemeral || cacheVol?.persistentVolumeClaim)) p.push("no model cache volume (PVC or ephemeral PVC) on /models");
      }
      if (worker?.resources?.limits?.["nvidia.com/gpu"]) p.push("worker-service container requests a GPU");
      if (spec.runtimeClassName !== "nvidia") p.push("runtimeClassName is not nvidia");
      if (!hasAffinity) p.push("no node affinity on nvidia.com/gpu.product");
      if (!hasToleration) p.push("no toleration for nvidia.com/gpu");
      // the pool's model is a catalog entry (a file of ConfigMap model-catalog, mounted in the worker) that names
      // the pool and points at vLLM on localhost
      const cmNames = (worker?.envFrom || []).map((e) => e.configMapRef?.name).filter(Boolean);
      const data = Object.assign({}, ...byKind("ConfigMap").filter((c) => cmNames.includes(c.metadata.name)).map((c) => c.data || {}));
      const catalogMount = (worker?.volumeMounts || []).find((m) => m.mountPath === data.TANDEM_CATALOG_DIR);
      const catalogVol = catalogMount && spec.volumes.find((v) => v.name === catalogMount.name);
      if (!data.TANDEM_CATALOG_DIR || catalogVol?.configMap?.name !== "model-catalog") p.push("worker does not mount ConfigMap model-catalog at TANDEM_CATALOG_DIR");
      const files = byKind("ConfigMap").find((c) => c.metadata.name === "model-catalog")?.data || {};
      const entries = Object.entries(files).filter(([f]) => /\.(ya?ml|json)$/.test(f))
        .map(([f, text]) => ({ id: f.replace(/\.(ya?ml|json)$/, ""), ...YAML.parse(text) }));
      const served = entries.filter((e) => (e.pools || []).includes(pool));
      if (!served.length) p.push(`no model catalog entry names pool ${pool}`);
      for (const e of served) {
        if (e.provider !== "openai") p.push(`catalog entry ${e.id}: provider is not openai`);
        if (!/^http:\/\/(127\.0\.0\.1|localhost):8000\/v1$/.test(e["base-url"] || "")) p.push(`catalog entry ${e.id} is not on vLLM at localhost:8000`);
        if (!e.tier) p.push(`catalog entry ${e.id} has no tier: the router would not route to it`);
      }
      // router knows this pool, through its headless Service
      const router = byKind("ConfigMap").find((c) => c.metadata.name === "router-config")?.data || {};
      const P = pool.toUpperCase();
      if (!String(router[`TANDEM_ROUTER_POOLS__${P}__ENDPOINT`] || "").startsWith(`dns:///worker-${pool}.`)) p.push(`router-config has no dns:/// endpoint for pool ${pool}`);
      if (!/^[0-9]+$/.test(router[`TANDEM_ROUTER_POOLS__${P}__CAPACITY`] || "")) p.push(`router-config has no capacity for pool ${pool}`);
      const svc = byKind("Service").find((s) => s.metadata.name === `worker-${pool}`);
      if (!svc || svc.spec.clusterIP !== "None") p.push(`no headless Service worker-${pool}`);
      check(`${name}: GPU pool Deployment/${d.metadata.name} has the GPU fields`, p);
    } else {
      const p = [];
      for (const c of [...(spec.initContainers || []), ...spec.containers])
        if (JSON.stringify(c.resources || {}).includes("nvidia.com/")) p.push(`container ${c.name} requests an NVIDIA resource`);
      if (spec.runtimeClassName) p.push(`runtimeClassName ${spec.runtimeClassName}`);
      if (hasAffinity) p.push("node affinity on GPU products");
      if (hasToleration) p.push("tolerates the GPU taint");
      check(`${name}: Deployment/${d.metadata.name} has no GPU fields`, p);
    }
  }
  if (name === "gpu") check(`${name}: at least one GPU pool`, podSpecs(objs).some(({ d }) => isGpuDeployment(d)) ? [] : ["none"]);
  if (name !== "gpu") check(`${name}: no GPU pool`, podSpecs(objs).some(({ d }) => isGpuDeployment(d)) ? ["found one"] : []);

  // 4. serving: Services, headless pools, PDBs, HPAs
  {
    const p = [];
    for (const s of byKind("Service")) if (!(s.spec.ports || []).some((x) => x.name === "grpc")) p.push(`Service ${s.metadata.name} has no port named grpc`);
    for (const d of byKind("Deployment")) {
      const labels = d.spec.template.metadata.labels;
      const covered = (o) => Object.entries(o.spec.selector?.matchLabels || o.spec.selector || {}).every(([k, v]) => labels[k] === v);
      if (!byKind("PodDisruptionBudget").some(covered)) p.push(`Deployment ${d.metadata.name} has no PodDisruptionBudget`);
      if (!byKind("Service").some((s) => covered({ spec: { selector: s.spec.selector } }))) p.push(`Deployment ${d.metadata.name} has no Service`);
      if (d.metadata.name.startsWith("worker-")) {
        const svc = byKind("Service").find((s) => covered({ spec: { selector: s.spec.selector } }));
        if (svc && svc.spec.clusterIP !== "None") p.push(`worker pool Service ${svc.metadata.name} is not headless`);
      }
    }
    for (const n of ["oracle", "router", "audit"])
      if (!byKind("HorizontalPodAutoscaler").some((h) => h.spec.scaleTargetRef.name === n)) p.push(`no HPA for ${n}`);
    const router = byKind("ConfigMap").find((c) => c.metadata.name === "router-config")?.data || {};
    for (const [k, v] of Object.entries(router))
      if (/^TANDEM_ROUTER_POOLS_(_[A-Z0-9]+_|[A-Z0-9]+)_ENDPOINT$/.test(k) && !String(v).startsWith("dns:///")) p.push(`${k} is not a dns:/// target`);
    check(`${name}: every Service has a grpc port; every Deployment a PDB and a Service; HPAs; headless worker pools`, p);
  }

  // 5. secrets stay out of ConfigMaps; provider keys and the datasource come from Secrets
  {
    const p = [];
    for (const cm of byKind("ConfigMap")) {
      if (cm.metadata.labels?.grafana_dashboard) continue;
      for (const [k, v] of Object.entries(cm.data || {})) {
        if (/(^|_)(PASSWORD|SECRET|TOKEN|API_KEY)$/.test(k)) p.push(`ConfigMap ${cm.metadata.name} has ${k}`);
        if (/(sk-[A-Za-z0-9]{16,}|password=)/i.test(String(v))) p.push(`ConfigMap ${cm.metadata.name} ${k} looks like a credential`);
      }
    }
    for (const { d, spec } of podSpecs(objs)) for (const c of spec.containers) for (const e of c.env || []) {
      if (/(API_KEY|PASSWORD|TOKEN)$/.test(e.name) && !e.valueFrom?.secretKeyRef) p.push(`${d.metadata.name}/${c.name} ${e.name} not from a Secret`);
    }
    // audit keeps its ledger, the oracle its submitted tasks, in the same PostgreSQL database
    for (const service of ["audit", "oracle"]) {
      const pod = podSpecs(objs).find(({ d }) => d.metadata.name === service);
      const env = pod ? envOf(pod.spec.containers[0]) : {};
      for (const n of ["QUARKUS_DATASOURCE_USERNAME", "QUARKUS_DATASOURCE_PASSWORD"])
        if (!env[n]?.valueFrom?.secretKeyRef) p.push(`${service} ${n} not from a Secret`);
      const url = env.QUARKUS_DATASOURCE_JDBC_URL;
      if (!url) p.push(`${service} has no QUARKUS_DATASOURCE_JDBC_URL`);
      if (byKind("Cluster").length) {
        const cluster = byKind("Cluster")[0].metadata.name;
        if (!String(url?.value || "").includes(`//${cluster}-rw.`)) p.push(`${service} URL does not point at ${cluster}-rw`);
        if (env.QUARKUS_DATASOURCE_PASSWORD?.valueFrom?.secretKeyRef?.name !== `${cluster}-app`) p.push(`${service} password not from ${cluster}-app`);
      }
    }
    check(`${name}: no credentials in ConfigMaps; provider keys and datasource from Secrets`, p);
  }

  // 5c. the workers' batch journal (components/worker-batch-journal): every worker pool or none has a datasource,
  // and it is audit's, entry for entry (the same database and Secret; the component listed before components/postgres
  // would give the workers the base's Secret while audit uses the cluster); the gpu overlay ships with it
  const journalOn = workerJournal(objs, name);
  if (name === "gpu" && !journalOn) fail(`${name}: worker batch journal`, "the gpu overlay gives the workers no database");

  // 5b. files the configuration names: every /etc/tandem/... path in a container's environment (envFrom
  // ConfigMaps and env) lies under one of its volume mounts, of an existing ConfigMap or a Secret, without subPath
  // (the kubelet never updates a subPath mount, so the router's catalog and the API keys could not change)
  {
    const p = [];
    for (const { d, spec } of podSpecs(objs)) for (const c of spec.containers) {
      const env = {};
      for (const f of c.envFrom || []) Object.assign(env, byKind("ConfigMap").find((x) => x.metadata.name === f.configMapRef?.name)?.data || {});
      for (const e of c.env || []) if (e.value !== undefined) env[e.name] = e.value;
      for (const [k, v] of Object.entries(env)) {
        if (!String(v).startsWith("/etc/tandem/")) continue;
        const m = (c.volumeMounts || []).find((x) => v === x.mountPath || String(v).startsWith(x.mountPath + "/"));
        if (!m) { p.push(`${d.metadata.name}/${c.name}: ${k}=${v} is not under a volume mount`); continue; }
        if (m.subPath) p.push(`${d.metadata.name}/${c.name}: ${m.mountPath} uses subPath`);
        const vol = (spec.volumes || []).find((x) => x.name === m.name);
        if (vol?.configMap && !byKind("ConfigMap").some((x) => x.metadata.name === vol.configMap.name))
          p.push(`${d.metadata.name}/${c.name}: ${m.mountPath} mounts a missing ConfigMap ${vol.configMap.name}`);
        if (!vol?.configMap && !vol?.secret) p.push(`${d.metadata.name}/${c.name}: ${m.mountPath} is neither a ConfigMap nor a Secret`);
      }
    }
    const router = byKind("ConfigMap").find((x) => x.metadata.name === "router-config")?.data || {};
    if (!router.TANDEM_CATALOG_DIR) p.push("router-config has no TANDEM_CATALOG_DIR");
    // the deprecated keys the model catalog replaced (read for one more release, with a warning at start)
    for (const c of byKind("ConfigMap")) for (const k of Object.keys(c.data || {}))
      if (/^TANDEM_(MODELS|ROUTER_MODELS)_|^TANDEM_ROUTER_POOLS_.*_MODELS$|^TANDEM_ROUTER_CATALOG_DIR$/.test(k))
        p.push(`${c.metadata.name}: ${k} is a deprecated key (the model catalog replaces it)`);
    if (Object.keys(router).some((k) => /^TANDEM_ROUTER_POOLS__LOCAL__/.test(k)))
      p.push("router-config spells pool local quoted (TANDEM_ROUTER_POOLS__LOCAL__*): application.properties has it unquoted");
    const oracle = byKind("ConfigMap").find((x) => x.metadata.name === "oracle-config")?.data || {};
    if (name === "gpu" && oracle.TANDEM_ORACLE_ACCESS_AUTH !== "api-key") p.push(`oracle-config: auth ${oracle.TANDEM_ORACLE_ACCESS_AUTH}, not api-key`);
    check(`${name}: configured files are mounted (no subPath), API keys required in the gpu overlay`, p);
  }

  // 6. OpenTelemetry: endpoint key present on the four services; empty unless the tracing component is on
  {
    const p = [];
    for (const n of ["oracle", "router", "worker", "audit"]) {
      const data = byKind("ConfigMap").find((c) => c.metadata.name === `${n}-config`)?.data || {};
      if (!("QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT" in data)) p.push(`${n}-config has no QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT`);
      const on = byKind("NetworkPolicy").some((np) => np.metadata.name === "allow-otlp-egress");
      if (on && !data.QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT) p.push(`${n}: tracing component on but no endpoint`);
      if (!on && data.QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT) p.push(`${n}: OTLP endpoint set without the tracing component`);
    }
    check(`${name}: OpenTelemetry endpoint wiring`, p);
  }

  // 7. network policies (when the component is on): default deny both ways, DNS, explicit allows
  const nps = byKind("NetworkPolicy");
  if (nps.some((n) => n.metadata.name === "default-deny-all")) {
    const p = [];
    const dd = nps.find((n) => n.metadata.name === "default-deny-all");
    if (Object.keys(dd.spec.podSelector).length || !dd.spec.policyTypes.includes("Ingress") || !dd.spec.policyTypes.includes("Egress") || dd.spec.ingress || dd.spec.egress)
      p.push("default-deny-all does not deny all ingress and egress");
    const allows = (app, dir, peerApp, port) => nps.some((n) => n.spec.podSelector.matchLabels?.["app.kubernetes.io/name"] === app &&
      (n.spec[dir] || []).some((r) => (r.ports || []).some((x) => x.port === port) &&
        (peerApp === "*" ? !(r.from || r.to) : (r[dir === "ingress" ? "from" : "to"] || []).some((peer) => JSON.stringify(peer).includes(peerApp)))));
    const flows = [["oracle", "ingress", "*", 8080], ["oracle", "egress", "router", 8081], ["oracle", "egress", "audit", 8083],
      ["router", "ingress", "oracle", 8081], ["router", "egress", "worker", 8082], ["router", "egress", "audit", 8083],
      ["audit", "ingress", "router", 8083], ["audit", "egress", "cnpg.io/cluster", 5432], ["oracle", "egress", "cnpg.io/cluster", 5432],
      ["audit", "egress", "router", 8081], ["router", "ingress", "audit", 8081], ["oracle", "egress", "0.0.0.0/0", 443],
      ["worker", "ingress", "router", 8082], ["worker", "egress", "vllm", 8000], ["worker", "egress", "0.0.0.0/0", 443]];
    for (const f of flows) if (!allows(...f)) p.push(`missing ${f[0]} ${f[1]} ${f[2]}:${f[3]}`);
    // the batch journal's database: the workers reach the CloudNativePG instances, which let them in; a worker
    // without a journal has no way to the database
    const workerToDb = allows("worker", "egress", "cnpg.io/cluster", 5432);
    const pg = nps.find((n) => n.metadata.name === "postgres");
    const dbFromWorker = (pg?.spec.ingress || []).some((r) => (r.ports || []).some((x) => x.port === 5432) &&
      (r.from || []).some((peer) => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "worker"));
    if (journalOn && !workerToDb) p.push("missing worker egress cnpg.io/cluster:5432 (batch journal)");
    if (journalOn && pg && !dbFromWorker) p.push("missing postgres ingress from worker:5432 (batch journal)");
    if (!journalOn && (workerToDb || dbFromWorker)) p.push("worker <-> postgres:5432 allowed without the batch journal");
    if (!nps.some((n) => JSON.stringify(n.spec.egress || []).includes("kube-dns"))) p.push("no DNS egress");
    if (!nps.some((n) => JSON.stringify(n.spec.ingress || []).includes("prometheus"))) p.push("no Prometheus scrape ingress");
    check(`${name}: network policies deny by default and allow Tandem's flows`, p);
  }

  // 8. monitoring: ServiceMonitors, alerts, dashboards
  const rules = byKind("PrometheusRule");
  if (rules.length) {
    const alerts = rules.flatMap((r) => r.spec.groups.flatMap((g) => g.rules)).filter((r) => r.alert).map((r) => r.alert);
    const want = ["TandemOutgoingErrorAboveTarget", "TandemAuditRateSpike", "TandemStreamSuspended", "TandemCircuitOpen",
      "TandemPoolSaturated", "TandemGpuPoolQueueing", "TandemBudgetExhausted"];
    check(`${name}: PrometheusRule has the alerts of issue 6`, want.filter((a) => !alerts.includes(a)).map((a) => `missing ${a}`));
    fs.writeFileSync(path.join(outDir, `rules-${name}.yaml`), YAML.stringify({ groups: rules.flatMap((r) => r.spec.groups) }));
    const sms = byKind("ServiceMonitor");
    check(`${name}: ServiceMonitors scrape /q/metrics on the grpc port`, sms.some((s) => s.spec.endpoints.some((e) => e.port === "grpc" && e.path === "/q/metrics")) ? [] : ["none"]);
    const scraped = byKind("Service").filter((s) => s.metadata.labels?.["tandem.dev/scrape"] === "true").map((s) => s.spec.selector["app.kubernetes.io/name"]);
    check(`${name}: every application is scraped once`, ["oracle", "router", "worker", "audit"].filter((a) => !scraped.includes(a)).map((a) => `${a} not scraped`)
      .concat(["oracle", "router", "audit"].filter((a) => scraped.filter((x) => x === a).length > 1).map((a) => `${a} scraped twice`)));
  }
  const dashCms = byKind("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
  if (rules.length) check(`${name}: dashboards are provisioned as ConfigMaps labelled grafana_dashboard`, dashCms.length ? [] : ["none"]);
  const exprs = [];
  for (const cm of dashCms) for (const [file, text] of Object.entries(cm.data || {})) {
    const repo = path.join(k8sDir, "components/monitoring/dashboards", file);
    check(`${name}: dashboard ${file} comes from the repository file`, fs.existsSync(repo) && fs.readFileSync(repo, "utf8") === text ? [] : ["differs from " + repo]);
    let dash;
    try { dash = JSON.parse(text); } catch (e) { fail(`${name}: dashboard ${file} is JSON`, e.message); continue; }
    const p = [];
    const dsVar = (dash.templating?.list || []).find((v) => v.type === "datasource" && v.query === "prometheus");
    if (!dsVar) p.push("no Prometheus datasource variable");
    const panels = (dash.panels || []).flatMap((x) => [x, ...(x.panels || [])]).filter((x) => x.type !== "row");
    if (!panels.length) p.push("no panels");
    for (const panel of panels) {
      const where = `panel "${panel.title}"`;
      if (!panel.fieldConfig?.defaults?.unit) p.push(`${where}: no unit`);
      if (panel.datasource?.uid !== "${" + dsVar?.name + "}") p.push(`${where}: datasource is not the variable`);
      if (!(panel.targets || []).length) p.push(`${where}: no queries`);
      for (const t of panel.targets || []) {
        if (t.datasource && t.datasource.uid !== "${" + dsVar?.name + "}") p.push(`${where}: query datasource is not the variable`);
        const e = t.expr || "";
        for (const m of e.matchAll(/\b(rate|irate)\([^[]*\[([^\]]+)\]/g)) if (m[2] !== "$__rate_interval") p.push(`${where}: ${m[1]} over [${m[2]}], not [$__rate_interval]`);
        for (const m of e.matchAll(/\bincrease\([^[]*\[([^\]]+)\]/g)) if (!["$__rate_interval", "$__range"].includes(m[1])) p.push(`${where}: increase over [${m[1]}]`);
        exprs.push({ file, title: panel.title, expr: e });
      }
    }
    check(`${name}: dashboard ${file}: datasource variable, a unit on every panel, rates over $__rate_interval`, p);
  }
  if (exprs.length) {
    const subst = (e) => e.replaceAll("$__rate_interval", "5m").replaceAll("$__range", "6h").replaceAll("$__interval", "1m")
      .replace(/\$\{?namespace\}?/g, "tandem");
    fs.writeFileSync(path.join(outDir, `dashboard-exprs-${name}.yaml`), YAML.stringify({ groups: [{
      name: `dashboards-${name}`,
      rules: exprs.map((x, i) => ({ record: `dashboard:expr_${i}`, expr: subst(x.expr), labels: { panel: `${x.file}: ${x.title}` } })) }] }));
  }
}

for (const t of targets) {
  const [name, file] = t.split("=");
  await checkTarget(name, file);
}
process.exit(failed ? 1 : 0);
