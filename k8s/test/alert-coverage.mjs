// Every alert of the PrometheusRule has promtool unit tests (k8s/test/alerts.test.yaml): at least one
// alert_rule_test where it fires (exp_alerts not empty) and one where it must stay silent (exp_alerts: []). A test
// of an alert the rules do not define fails too: promtool passes a test that expects nothing of an unknown alert.
// Usage: node alert-coverage.mjs <rules.yaml> <alerts.test.yaml>
// Prints "PASS <alert> ..." / "FAIL <alert>: <why>" lines (k8s/test.sh counts them); exits 1 when any failed.
import fs from "node:fs";
import YAML from "yaml";

const [rulesFile, testFile] = process.argv.slice(2);
const rules = YAML.parse(fs.readFileSync(rulesFile, "utf8"));
const tests = YAML.parse(fs.readFileSync(testFile, "utf8"));
const alerts = (rules?.groups || []).flatMap((g) => g.rules || []).filter((r) => r.alert).map((r) => r.alert);
const cases = (tests?.tests || []).flatMap((t) => t.alert_rule_test || []);
let failed = 0;
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };

if (!alerts.length) fail(rulesFile, "no alerts");
for (const a of alerts) {
  const mine = cases.filter((c) => c.alertname === a);
  const fires = mine.filter((c) => (c.exp_alerts || []).length).map((c) => c.eval_time);
  const silent = mine.filter((c) => !(c.exp_alerts || []).length).map((c) => c.eval_time);
  const missing = [fires.length ? null : "no test where it fires", silent.length ? null : "no test where it stays silent"];
  if (missing.some(Boolean)) fail(`alert ${a} has unit tests`, missing.filter(Boolean).join(", "));
  else console.log(`PASS alert ${a} has unit tests: fires at ${fires.join(", ")}, silent at ${silent.join(", ")}`);
}
for (const c of cases) if (!alerts.includes(c.alertname)) fail(`unit test of ${c.alertname} at ${c.eval_time}`, "no such alert in the rules");
process.exit(failed ? 1 : 0);
