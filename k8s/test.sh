#!/usr/bin/env bash
# Offline tests of Tandem's Kubernetes manifests (k8s/). Needs no cluster and no internet beyond the package
# registries (npm, Maven Central, Debian) on the first run. Checks, per overlay (and the test fixtures):
#   1. it renders with `kubectl kustomize`;
#   2. every object validates against its schema: Kubernetes 1.32 and Prometheus Operator JSON schemas
#      (npm kubernetes-models, @kubernetes-models/prometheus-operator) and a strict CloudNativePG Cluster
#      subset schema (test/schemas); unknown or misspelt fields are caught by binding every object to the
#      fabric8 Kubernetes model 7.3.1 (Maven Central) and rejecting any field it does not know (test/strict);
#   3. policy: GPU fields on GPU pool Deployments only, probes/requests/limits/hardened security context on
#      every container, PDBs, HPAs, headless worker pools, secrets only from Secrets, configured /etc/tandem
#      files mounted (no subPath), network policies,
#      OpenTelemetry wiring, dashboards (datasource variable, units, $__rate_interval) (test/check.mjs);
#   3b. images: every tandem/* image deployed is the one its module builds (bin/images): name and tag, base
#      image, non-root user, port and entrypoint agree between the Jib configuration, src/main/docker/Dockerfile.jvm
#      and the manifests (test/images.mjs), with a control that a wrong tag fails;
#   4. every PromQL expression of the alerts and dashboards parses (`promtool check rules`), the alert
#      rules fire on synthetic series as expected (`promtool test rules test/alerts.test.yaml`), and every
#      alert has a test where it fires and one where it stays silent (test/alert-coverage.mjs).
# Prints "N passed, N failed" last and exits non-zero when anything failed, when a tool exits non-zero, when
# an input is missing or when a step checked nothing.
set -uo pipefail
K8S="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$K8S")"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
ko() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
  [ "$passed" -gt 0 ] || ko "nothing was checked"
  echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] && exit 0; exit 1
}
# Runs a checker that prints one line per check and counts them: $1 title, $2 log file, $3 pass regex, $4 fail
# regex, then the command. Its exit status counts too: non-zero without a FAIL line (a crash, a missing
# file) is a failure, and so is a run that checked nothing.
counted() {
  local title=$1 log=$2 pr=$3 fr=$4 rc=0 p f
  shift 4
  "$@" >"$log" 2>&1 || rc=$?
  p=$(grep -cE "$pr" "$log" || true); f=$(grep -cE "$fr" "$log" || true)
  echo "$title: $p passed, $f failed"
  grep -E "$fr" "$log" || true
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then ko "$title: exited with status $rc: $(tail -5 "$log")"; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$rc" -eq 0 ]; then ko "$title: checked nothing"; fi
  return 0
}

# ---- tools ---------------------------------------------------------------------------------------------
if ! command -v kubectl >/dev/null; then ko "kubectl is required (kubectl 1.32 with kustomize v5)"; finish; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then ko "node and npm are required"; finish; fi
if [ ! -d "$K8S/test/node_modules/kubernetes-models" ] || [ "$K8S/test/package-lock.json" -nt "$K8S/test/node_modules/.package-lock.json" ]; then
  (cd "$K8S/test" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || { cat "$OUT/npm.log"; ko "npm ci in k8s/test"; finish; }
fi
# shellcheck source=/dev/null
source "$K8S/test/prometheus-package.sh"
install_prometheus_package "$OUT/apt.log" || { ko "promtool could not be installed"; finish; }
JAVA=""
if [ -f "$ROOT/bin/env.sh" ]; then
  # shellcheck source=/dev/null
  source "$ROOT/bin/env.sh"
  tandem_pick_jdk >/dev/null 2>&1 && JAVA="$JAVA_HOME/bin/java"
fi
[ -z "$JAVA" ] && command -v java >/dev/null && JAVA=java
CP_FILE="$K8S/test/strict/target/classpath.txt"
if [ -n "$JAVA" ] && [ ! -s "$CP_FILE" ]; then
  mkdir -p "$(dirname "$CP_FILE")"
  (cd "$ROOT" && { ./mvnw -q -o -B -f k8s/test/strict/pom.xml dependency:build-classpath -Dmdep.outputFile="$CP_FILE" \
      || ./mvnw -q -B -ntp -f k8s/test/strict/pom.xml dependency:build-classpath -Dmdep.outputFile="$CP_FILE"; }) \
    >"$OUT/mvn.log" 2>&1 || { tail -20 "$OUT/mvn.log"; rm -f "$CP_FILE"; }
fi

# ---- 1. render ----------------------------------------------------------------------------------------
targets=()
objects=0
for dir in "$K8S"/overlays/* "$K8S"/test/fixtures/*; do
  [ -f "$dir/kustomization.yaml" ] || continue
  name=$(basename "$dir")
  if kubectl kustomize "$dir" >"$OUT/$name.yaml" 2>"$OUT/$name.err"; then
    n=$(grep -c '^kind:' "$OUT/$name.yaml" || true); objects=$((objects + n))
    ok "$name renders with kubectl kustomize ($n objects)"
    targets+=("$name=$OUT/$name.yaml")
  else
    ko "$name renders with kubectl kustomize: $(cat "$OUT/$name.err")"
  fi
done
[ ${#targets[@]} -gt 0 ] || { ko "no overlay rendered"; finish; }

# ---- 2+3. schemas and policy ----------------------------------------------------------------------------
counted "schemas (kubernetes-models, prometheus-operator, CNPG subset) and policy checks" "$OUT/check.log" '^PASS ' '^FAIL |Error' \
  node "$K8S/test/check.mjs" "$OUT" "${targets[@]}"
# Control: the batch journal listed before components/postgres copies the base's Secret while audit uses the cluster;
# check.mjs must fail that render, or its journal check proves nothing.
CTRL_J="$OUT/journal-control"
mkdir -p "$CTRL_J"
REL=$(realpath --relative-to="$CTRL_J" "$K8S") # kustomize takes no absolute paths
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s/base\ncomponents:\n  - %s/components/worker-batch-journal\n  - %s/components/postgres\n' \
  "$REL" "$REL" "$REL" >"$CTRL_J/kustomization.yaml"
if ! kubectl kustomize "$CTRL_J" >"$OUT/journal-control.yaml" 2>"$OUT/journal-control.err"; then ko "journal control renders: $(cat "$OUT/journal-control.err")"
elif node "$K8S/test/check.mjs" "$CTRL_J" "journal-control=$OUT/journal-control.yaml" >"$OUT/journal-control.log" 2>&1; then
  ko "check.mjs accepts workers whose journal datasource is not audit's"
elif grep -q "^FAIL journal-control: worker batch journal: .*QUARKUS_DATASOURCE_JDBC_URL is not audit's" "$OUT/journal-control.log"; then
  ok "check.mjs rejects workers whose journal datasource is not audit's (component before components/postgres)"
else ko "journal control failed for another reason: $(grep -m3 FAIL "$OUT/journal-control.log")"; fi
if [ -n "$JAVA" ] && [ -s "$CP_FILE" ]; then
  files=(); for t in "${targets[@]}"; do files+=("$(basename "${t#*=}")"); done
  # From $OUT, so the report names gpu.yaml rather than a temporary path.
  counted "strict fields (fabric8 model)" "$OUT/strict.log" '^(ok|skip) ' '^FAIL |Exception|error:' \
    bash -c 'cd "$1" && shift && exec "$@"' - "$OUT" \
    "$JAVA" -DallowGeneric=postgresql.cnpg.io/v1/Cluster -cp "$(cat "$CP_FILE")" "$K8S/test/strict/Strict.java" "${files[@]}"
  # One line per rendered object, or some were never looked at.
  n=$(grep -cE '^(ok|skip|FAIL) ' "$OUT/strict.log" || true)
  [ "$n" -eq "$objects" ] || ko "strict fields: $n results for $objects rendered objects"
else
  ko "strict field check: no JDK or fabric8 classpath (see $OUT/mvn.log)"
fi

# ---- 3b. images --------------------------------------------------------------------------------------------
# The images every overlay deploys are the ones bin/images builds (names, tag, base, user, port, entrypoint of
# each module's Jib configuration and Dockerfile.jvm); no registry or base image needed.
counted "images (build config, Dockerfiles, manifests)" "$OUT/images.log" '^PASS ' '^FAIL |Error' \
  node "$K8S/test/images.mjs" "$ROOT" "${targets[@]}"
# Control: a build whose tag no manifest deploys must fail the check, or the one above proves nothing.
CTRL="$OUT/images-control"
for f in "$ROOT"/*/src/main/docker/Dockerfile.jvm; do
  mod=$(basename "$(dirname "$(dirname "$(dirname "$(dirname "$f")")")")")
  mkdir -p "$CTRL/$mod/src/main/docker" "$CTRL/$mod/src/main/resources"
  cp "$f" "$CTRL/$mod/src/main/docker/"; cp "$ROOT/$mod/pom.xml" "$CTRL/$mod/"
  cp "$ROOT/$mod/src/main/resources/application.properties" "$CTRL/$mod/src/main/resources/"
done
sed -i 's/^quarkus.container-image.tag=.*/quarkus.container-image.tag=9.9.9/' "$CTRL/oracle-service/src/main/resources/application.properties" 2>/dev/null
if node "$K8S/test/images.mjs" "$CTRL" "${targets[@]}" >"$OUT/images-control.log" 2>&1; then ko "images check accepts a build tag no manifest deploys"
elif grep -q '^FAIL oracle-service: the build.s image' "$OUT/images-control.log"; then ok "images check rejects a build tag no manifest deploys"
else ko "images check control failed for another reason: $(grep -m3 FAIL "$OUT/images-control.log")"; fi

# ---- 4. PromQL ------------------------------------------------------------------------------------------
# The gpu overlay carries the monitoring component: check.mjs must have written its rules and dashboard queries.
for f in rules-gpu.yaml dashboard-exprs-gpu.yaml; do [ -f "$OUT/$f" ] || ko "check.mjs wrote no $f"; done
for f in "$OUT"/rules-*.yaml "$OUT"/dashboard-exprs-*.yaml; do
  [ -f "$f" ] || continue
  if promtool check rules "$f" >"$OUT/promtool.log" 2>&1; then
    n=$(grep -oE '[0-9]+ rules found' "$OUT/promtool.log" | awk '{s += $1} END {print s + 0}')
    if [ "$n" -gt 0 ]; then ok "promtool check rules $(basename "$f"): $n rules found"; else ko "promtool check rules $(basename "$f"): no rules"; fi
  else ko "promtool check rules $(basename "$f"): $(cat "$OUT/promtool.log")"; fi
done
# Control: promtool must reject a broken expression, or the checks above prove nothing.
printf 'groups:\n- name: control\n  rules:\n  - record: broken\n    expr: sum(rate(x[5m])\n' >"$OUT/control.yaml"
if promtool check rules "$OUT/control.yaml" >/dev/null 2>&1; then ko "promtool accepts a broken expression"; else ok "promtool rejects a broken expression"; fi
if [ -f "$OUT/rules-gpu.yaml" ] && [ -f "$K8S/test/alerts.test.yaml" ]; then
  cp "$K8S/test/alerts.test.yaml" "$OUT/"
  if (cd "$OUT" && promtool test rules alerts.test.yaml) >"$OUT/unit.log" 2>&1; then ok "promtool test rules: alerts fire (and stay silent) on synthetic series"
  else ko "promtool test rules: $(cat "$OUT/unit.log")"; fi
  # Control: a unit test expecting an alert that cannot fire must fail, or the one above proves nothing.
  printf 'rule_files: [rules-gpu.yaml]\ntests:\n- interval: 1m\n  input_series: []\n  alert_rule_test:\n  - eval_time: 1m\n    alertname: TandemPoolDown\n    exp_alerts: [{exp_labels: {severity: critical, pool: none}}]\n' \
    >"$OUT/control.test.yaml"
  if (cd "$OUT" && promtool test rules control.test.yaml) >/dev/null 2>&1; then ko "promtool test rules passes a wrong expectation"
  else ok "promtool test rules fails a wrong expectation"; fi
  counted "alert unit test coverage" "$OUT/coverage.log" '^PASS ' '^FAIL ' \
    node "$K8S/test/alert-coverage.mjs" "$OUT/rules-gpu.yaml" "$OUT/alerts.test.yaml"
else
  ko "promtool test rules: missing $([ -f "$OUT/rules-gpu.yaml" ] || echo "rules-gpu.yaml ")$([ -f "$K8S/test/alerts.test.yaml" ] || echo k8s/test/alerts.test.yaml)"
fi
finish
