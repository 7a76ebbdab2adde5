#!/usr/bin/env bash
# Every dashboard and alert query of k8s/components/monitoring returns data from a real Prometheus (Debian's
# prometheus package) scraping the four packaged services under a short generated load.
#   1. renders k8s/overlays/local (the services' configuration) and k8s/overlays/gpu (the PrometheusRule);
#   2. starts the four packaged services (./mvnw package first) on free ports, each with its Deployment's
#      environment and mounted ConfigMaps from the rendered manifests; only addresses (cluster DNS names ->
#      localhost ports) and the database (a fresh tandem_prometheus_test, or TANDEM_PROM_DB) are overridden;
#   3. starts Prometheus on a free port with its own data directory, scraping /q/metrics every 2 s with the
#      labels the ServiceMonitor adds (namespace, app, tandem_dev_pool), and the alert and recording rules;
#   4. runs k8s/test/TaskLoad.java for TANDEM_PROM_LOAD_SECONDS (default 40) seconds: the shipped pipelines,
#      two tenants, every tenth task with a budget too small for any model;
#   5. queries every dashboard target ($__rate_interval and $__range = 1m, $namespace = tandem), every
#      recording rule's series and the left-hand side of every alert expression over the HTTP API, and asserts a
#      result with at least one finite sample. An empty list of dashboard, recording-rule or alert queries fails.
# Series that need a failure to move are still asserted to exist: circuit-breaker and stream-state gauges are
# exported (0 / the state number) for every backend and stream, and the budget counter gets data from the
# small-budget tasks. vLLM's own metrics (vllm:*) exist only on GPU pools and the worker's provider-batch metrics
# (tandem_worker_batch_*) only once a model with a batch path ran a batch; both are reported as SKIP.
# Prints "N passed, N failed" last and exits non-zero when anything failed. Needs kubectl, node (k8s/test
# node_modules, made by k8s/test.sh), a JDK, PostgreSQL on 127.0.0.1:5432, curl.
set -uo pipefail
K8S="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$K8S")"
cd "$ROOT"
# shellcheck source=/dev/null
source bin/env.sh
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${TANDEM_PROM_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
passed=0; failed=0; skipped=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
ko() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ] && exit 0; exit 1; }

# ---- tools and inputs ------------------------------------------------------------------------------------
tandem_pick_jdk >/dev/null || { ko "no JDK >= 21"; finish; }
tandem_ensure_postgres >/dev/null || { ko "PostgreSQL is not reachable"; finish; }
for s in oracle router worker audit; do
  [ -f "$s-service/target/quarkus-app/quarkus-run.jar" ] || { ko "$s-service is not packaged (./mvnw -B -ntp package -DskipTests)"; finish; }
done
[ -d "$K8S/test/node_modules/yaml" ] || { ko "k8s/test/node_modules missing (run bash k8s/test.sh once, or npm ci in k8s/test)"; finish; }
# shellcheck source=/dev/null
source "$K8S/test/prometheus-package.sh"
install_prometheus_package "$WORK/apt.log" || { ko "prometheus could not be installed (see the apt log)"; finish; }
command -v prometheus >/dev/null || { ko "no prometheus binary"; finish; }
kubectl kustomize k8s/overlays/local >"$WORK/local.yaml" || { ko "render k8s/overlays/local"; finish; }
kubectl kustomize k8s/overlays/gpu >"$WORK/gpu.yaml" || { ko "render k8s/overlays/gpu"; finish; }
INPUTS="$K8S/test/prometheus-inputs.mjs"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
PO=$(free_port); PR=$(free_port); PW=$(free_port); PA=$(free_port); PP=$(free_port)
DB=${TANDEM_PROM_DB:-tandem_prometheus_test}
psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $DB" -c "create database $DB" >/dev/null \
  || { ko "create database $DB"; finish; }

# ---- services ----------------------------------------------------------------------------------------------
# Whether NAME ($1) is among the overrides NAME=VALUE that follow. (Not `printf | grep -q`: under pipefail, grep
# quitting at its first match can end printf with SIGPIPE, and the pipeline then fails although the name is there.)
overridden() {
  local name=$1 arg; shift
  for arg in "$@"; do [ "${arg%%=*}" = "$name" ] && return 0; done
  return 1
}
# $1 module, $2 Deployment, $3 port, then overrides NAME=VALUE.
start_service() {
  local module=$1 deployment=$2 port=$3; shift 3
  local envs=() line
  node "$INPUTS" env "$WORK/local.yaml" "$deployment" "$WORK/mounts/$deployment" >"$WORK/$deployment.env" 2>"$WORK/$deployment.mounts" \
    || { ko "$deployment: environment from the manifests: $(cat "$WORK/$deployment.mounts")"; return 1; }
  while IFS= read -r line; do
    case "$line" in JAVA_TOOL_OPTIONS=*) continue ;; esac # heap sizing for a container, not this machine
    envs+=("$line")
  done <"$WORK/$deployment.env"
  envs+=("QUARKUS_HTTP_PORT=$port" "$@")
  # Every cluster address must have been overridden, or the service would try to reach the cluster.
  local name left=()
  for line in "${envs[@]}"; do
    name=${line%%=*}
    case "$line" in *svc.cluster.local*) overridden "$name" "$@" || left+=("$name") ;; esac
  done
  [ ${#left[@]} -eq 0 ] || { ko "$deployment: cluster addresses not overridden: ${left[*]}"; return 1; }
  env "${envs[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$module/target/quarkus-app/quarkus-run.jar" \
    >"$WORK/$deployment.log" 2>&1 &
  PIDS+=($!)
  echo "$deployment: started on :$port (pid $!, $(wc -l <"$WORK/$deployment.env") variables from the manifests)"
}
start_service audit-service audit "$PA" \
  "QUARKUS_DATASOURCE_JDBC_URL=jdbc:postgresql://127.0.0.1:5432/$DB" QUARKUS_DATASOURCE_USERNAME=postgres QUARKUS_DATASOURCE_PASSWORD= \
  TANDEM_ROUTER_HOST=localhost "TANDEM_ROUTER_PORT=$PR" \
  TANDEM_AUDIT_METRICS_REFRESH_INTERVAL=2s TANDEM_AUDIT_FIT_INTERVAL=2s TANDEM_AUDIT_FIT_EVERY_VERDICTS=10 || finish
start_service worker-service worker-cpu "$PW" || finish
# A default tenant budget (none in the base), so the tenant budget gauges have data.
start_service router-service router "$PR" "TANDEM_ROUTER_POOLS_LOCAL_ENDPOINT=localhost:$PW" \
  QUARKUS_GRPC_CLIENTS_AUDIT_HOST=localhost "QUARKUS_GRPC_CLIENTS_AUDIT_PORT=$PA" TANDEM_ROUTER_AUDIT_POLL_INTERVAL=5s \
  TANDEM_ROUTER_TENANT_BUDGET_DEFAULT_BUDGET_USD=1000 || finish
start_service oracle-service oracle "$PO" \
  "QUARKUS_DATASOURCE_JDBC_URL=jdbc:postgresql://127.0.0.1:5432/$DB" QUARKUS_DATASOURCE_USERNAME=postgres QUARKUS_DATASOURCE_PASSWORD= \
  QUARKUS_GRPC_CLIENTS_ROUTER_HOST=localhost "QUARKUS_GRPC_CLIENTS_ROUTER_PORT=$PR" \
  QUARKUS_GRPC_CLIENTS_AUDIT_HOST=localhost "QUARKUS_GRPC_CLIENTS_AUDIT_PORT=$PA" || finish
for sp in "audit:$PA" "worker-cpu:$PW" "router:$PR" "oracle:$PO"; do
  for _ in $(seq 1 180); do curl -fs "http://127.0.0.1:${sp#*:}/q/health/ready" >/dev/null 2>&1 && break; sleep 1; done
  if curl -fs "http://127.0.0.1:${sp#*:}/q/health/ready" >/dev/null 2>&1; then ok "${sp%%:*} ready with the manifests' configuration"
  else ko "${sp%%:*} not ready: $(tail -5 "$WORK/${sp%%:*}.log")"; finish; fi
done

# A second catalog file, added to the router's mounted catalog directory while it runs (as a changed ConfigMap
# would be): a pool nobody listens on. The router must pick it up without a restart, and its calls there fail,
# which gives the failure-only series (backend errors, an open circuit, failover) data.
DEAD=$(free_port)
cat >"$WORK/mounts/router/etc/tandem/catalog/99-unreachable-pool.json" <<EOF
{"models": {}, "pools": {"unreachable": {"endpoint": "127.0.0.1:$DEAD", "models": ["embedded-minilm", "embedded-bge-oracle"], "capacity": 8}}}
EOF

# ---- Prometheus ----------------------------------------------------------------------------------------------
node "$INPUTS" rules "$WORK/gpu.yaml" 2s >"$WORK/rules.yaml" 2>"$WORK/inputs.err" \
  || { ko "rules from k8s/overlays/gpu: $(cat "$WORK/inputs.err")"; finish; }
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [rules.yaml]
scrape_configs:
EOF
for job in "oracle:$PO:oracle:" "router:$PR:router:" "audit:$PA:audit:" "worker-cpu:$PW:worker:cpu"; do
  IFS=: read -r name port app pool <<<"$job"
  cat >>"$WORK/prometheus.yml" <<EOF
  - job_name: $name
    metrics_path: /q/metrics
    static_configs:
      - targets: ["127.0.0.1:$port"]
        labels: {namespace: tandem, app: $app, pod: $name-0${pool:+, tandem_dev_pool: $pool}}
EOF
done
promtool check config "$WORK/prometheus.yml" >"$WORK/promtool.log" 2>&1 || { ko "prometheus.yml: $(cat "$WORK/promtool.log")"; finish; }
rules=$(grep -oE '[0-9]+ rules found' "$WORK/promtool.log" | awk '{s += $1} END {print s + 0}')
[ "$rules" -gt 0 ] || { ko "no alert or recording rules loaded from k8s/overlays/gpu"; finish; }
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --web.listen-address="127.0.0.1:$PP" \
  >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PP/-/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$PP/-/ready" >/dev/null || { ko "prometheus not ready: $(tail -5 "$WORK/prometheus.log")"; finish; }
ok "prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}') on :$PP scraping the four services every 2 s"

# ---- load ----------------------------------------------------------------------------------------------------
CP="oracle-service/target/quarkus-app/app/*:oracle-service/target/quarkus-app/lib/main/*"
JFLAGS=()
[ "$(java_major "$JAVA_HOME")" -ge 24 ] && JFLAGS+=(--sun-misc-unsafe-memory-access=allow)
seconds=${TANDEM_PROM_LOAD_SECONDS:-40}
if "$JAVA_HOME/bin/java" ${JFLAGS[@]+"${JFLAGS[@]}"} -cp "$CP" "$K8S/test/TaskLoad.java" "127.0.0.1:$PO" "$seconds" 4 docs/samples/support-ticket.txt \
    >"$WORK/load.log" 2>&1; then ok "load for ${seconds}s: $(tail -1 "$WORK/load.log")"
else ko "load: $(tail -5 "$WORK/load.log")"; finish; fi
sleep 6 # two more scrapes and rule evaluations after the last task
for sp in "audit:$PA" "worker-cpu:$PW" "router:$PR" "oracle:$PO"; do # kept with TANDEM_PROM_KEEP=1, for a look
  curl -fs "http://127.0.0.1:${sp#*:}/q/metrics" >"$WORK/${sp%%:*}.metrics" 2>/dev/null || true
done

if grep -q 'catalog version 2 from catalog directory' "$WORK/router.log"; then ok "router re-read its mounted catalog directory at run time (pool unreachable added)"
else ko "router did not pick up the catalog file added at run time: $(grep -i catalog "$WORK/router.log" | tail -3)"; fi
if grep -qE 'Loaded [0-9]+ worker types: .*intent' "$WORK/worker-cpu.log"; then ok "worker loaded the worker type of its mounted worker-types ConfigMap (intent)"
else ko "worker did not load the intent worker type from its mounted directory"; fi

# ---- queries -------------------------------------------------------------------------------------------------
node "$INPUTS" queries "$WORK/gpu.yaml" "$K8S/components/monitoring/dashboards" 1m >"$WORK/queries.tsv" 2>"$WORK/inputs.err" \
  || { ko "queries from the dashboards and k8s/overlays/gpu: $(cat "$WORK/inputs.err")"; finish; }
# Each kind must have queries, or the loop below would pass on nothing.
for kind in dashboard record alert; do
  n=$(grep -c "^$kind"$'\t' "$WORK/queries.tsv" || true)
  if [ "$n" -gt 0 ]; then echo "$n $kind queries"; else ko "no $kind queries"; fi
done
while IFS=$'\t' read -r kind name expr; do
  if [[ "$expr" == *vllm:* ]]; then skipped=$((skipped + 1)); echo "SKIP $kind $name: vLLM series exist on GPU pools only"; continue; fi
  if [[ "$expr" == *tandem_worker_batch_* ]]; then skipped=$((skipped + 1)); echo "SKIP $kind $name: batch series exist once a model with a batch path (OpenAI, Anthropic) ran a provider batch"; continue; fi
  curl -fsS "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$expr" >"$WORK/answer.json" 2>"$WORK/curl.err" \
    || { ko "$kind $name: query failed: $(cat "$WORK/curl.err") $(cat "$WORK/answer.json" 2>/dev/null)"; continue; }
  verdict=$(node -e '
    const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const r = a.data.result;
    const values = a.data.resultType === "scalar" ? [r[1]] : r.map((s) => s.value[1]);
    const finite = values.filter((v) => Number.isFinite(Number(v)));
    if (!values.length) console.log("empty");
    else if (!finite.length) console.log(`only NaN/Inf (${values.length} series)`);
    else console.log(`ok ${values.length} series, e.g. ${finite[0]}`);' "$WORK/answer.json" 2>&1) \
    || verdict="answer not understood: $verdict"
  if [[ "$verdict" == ok* ]]; then ok "$kind $name: ${verdict#ok }"; else ko "$kind $name: $verdict: $expr"; fi
done <"$WORK/queries.tsv"
finish
