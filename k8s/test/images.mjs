// The images the manifests deploy are the ones the build makes (issue 19): for every tandem/* image of the
// rendered overlays, the service module's Jib configuration (application.properties, section "Container image")
// and its plain Dockerfile (src/main/docker/Dockerfile.jvm) must agree with the manifests and with each other on
// name and tag, base image, non-root user, port, working directory and entrypoint.
// Usage: node images.mjs <repoRoot> <name>=<rendered.yaml> ...
// Prints "PASS <check>" / "FAIL <check>: <why>" lines (k8s/test.sh counts them); exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const [root, ...targets] = process.argv.slice(2);
let failed = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
const check = (name, problems) => (problems.length ? fail(name, problems.join("; ")) : pass(name));

// application.properties: plain keys only (profile keys such as %test. do not build images)
function properties(file) {
  const out = {};
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("!") || line.startsWith("%")) continue;
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

// Dockerfile instructions (one per line here: no continuation lines are used)
function dockerfile(file) {
  const out = { from: [], user: [], expose: [], workdir: [], entrypoint: [], cmd: [], comments: [] };
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) { out.comments.push(line); continue; }
    const m = line.match(/^([A-Za-z]+)\s+(.*)$/);
    if (m && out[m[1].toLowerCase()]) out[m[1].toLowerCase()].push(m[2].trim());
  }
  return out;
}

// Every container of a Deployment running a tandem/* image, from every rendered overlay.
const uses = new Map(); // image repository (tandem/x-service) -> [{where, image, port, runAsUser}]
for (const t of targets) {
  const [name, file] = t.split("=");
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    const o = doc.toJS();
    if (o?.kind !== "Deployment") continue;
    const spec = o.spec.template.spec;
    for (const c of spec.containers || []) {
      if (!c.image?.startsWith("tandem/")) continue;
      const repo = c.image.split(":")[0];
      if (!uses.has(repo)) uses.set(repo, []);
      uses.get(repo).push({
        where: `${name}: Deployment ${o.metadata.name}/${c.name}`, image: c.image,
        ports: (c.ports || []).map((p) => p.containerPort),
        runAsUser: c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser,
        runAsNonRoot: c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot,
      });
    }
  }
}
if (uses.size === 0) fail("tandem images in the manifests", "no Deployment runs a tandem/* image");

const modules = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, "src/main/docker/Dockerfile.jvm")));
for (const m of modules) {
  if (!uses.has(`tandem/${m}`)) fail(`${m}: deployed`, `it has a Dockerfile but no manifest runs tandem/${m}`);
}

for (const [repo, containers] of uses) {
  const module = repo.slice("tandem/".length);
  const dir = path.join(root, module);
  const propsFile = path.join(dir, "src/main/resources/application.properties");
  const dockerFile = path.join(dir, "src/main/docker/Dockerfile.jvm");
  if (!fs.existsSync(propsFile)) { fail(`${repo}: built by a module`, `no module ${module} (${propsFile})`); continue; }
  const p = properties(propsFile);
  const built = `${p["quarkus.container-image.group"]}/${p["quarkus.container-image.name"]}:${p["quarkus.container-image.tag"]}`;
  const port = Number(p["quarkus.http.port"]);
  const jibPorts = (p["quarkus.jib.ports"] ?? String(port)).split(",").map(Number);
  const entry = (p["quarkus.jib.jvm-entrypoint"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const workdir = p["quarkus.jib.working-directory"];
  const user = p["quarkus.jib.user"];

  // build config against the manifests
  check(`${module}: the build's image is the one deployed (${built})`, containers
    .filter((c) => c.image !== built).map((c) => `${c.where} runs ${c.image}`));
  check(`${module}: image build off by default, Jib extension present`, [
    ...(p["quarkus.container-image.build"] === "false" ? [] : ["quarkus.container-image.build is not false"]),
    ...(fs.readFileSync(path.join(dir, "pom.xml"), "utf8").includes("<artifactId>quarkus-container-image-jib</artifactId>")
      ? [] : ["pom.xml lacks quarkus-container-image-jib"]),
  ]);
  check(`${module}: port ${port} is the containers' port and the image's`, [
    ...containers.filter((c) => c.ports.length !== 1 || c.ports[0] !== port).map((c) => `${c.where} exposes ${c.ports}`),
    ...(jibPorts.length === 1 && jibPorts[0] === port ? [] : [`quarkus.jib.ports is ${jibPorts}`]),
  ]);
  check(`${module}: non-root user ${user} in the image and the pods`, [
    ...(/^[1-9][0-9]*$/.test(user ?? "") ? [] : [`quarkus.jib.user is ${user} (want a numeric non-root uid)`]),
    ...containers.filter((c) => String(c.runAsUser) !== user || c.runAsNonRoot !== true)
      .map((c) => `${c.where} runs as ${c.runAsUser} (runAsNonRoot ${c.runAsNonRoot})`),
  ]);
  check(`${module}: Jib entrypoint runs the fast-jar with java`, [
    ...(entry[0] === "java" ? [] : [`starts with ${entry[0]}`]),
    ...(entry.at(-2) === "-jar" && entry.at(-1) === `${workdir}/quarkus-run.jar`
      ? [] : [`ends with ${entry.slice(-2).join(" ")}, not -jar ${workdir}/quarkus-run.jar`]),
    // model-clients brings ONNX Runtime (the embedded models), which loads native code
    ...(fs.readFileSync(path.join(dir, "pom.xml"), "utf8").includes("<artifactId>model-clients</artifactId>") &&
      !entry.includes("--enable-native-access=ALL-UNNAMED") ? ["ONNX Runtime needs --enable-native-access=ALL-UNNAMED"] : []),
  ]);

  // the plain Dockerfile against the Jib configuration
  if (!fs.existsSync(dockerFile)) { fail(`${module}: Dockerfile`, `missing ${dockerFile}`); continue; }
  const d = dockerfile(dockerFile);
  let dockerEntry = null;
  try { dockerEntry = JSON.parse(d.entrypoint.at(-1) ?? "null"); } catch { /* reported below */ }
  check(`${module}: Dockerfile.jvm matches the Jib image`, [
    ...(d.from.length === 1 && d.from[0] === p["quarkus.jib.base-jvm-image"]
      ? [] : [`FROM ${d.from} vs quarkus.jib.base-jvm-image ${p["quarkus.jib.base-jvm-image"]}`]),
    ...(d.user.at(-1) === user ? [] : [`USER ${d.user.at(-1)} vs quarkus.jib.user ${user}`]),
    ...(d.expose.length === 1 && d.expose[0] === String(port) ? [] : [`EXPOSE ${d.expose} vs port ${port}`]),
    ...(d.workdir.at(-1) === workdir ? [] : [`WORKDIR ${d.workdir.at(-1)} vs quarkus.jib.working-directory ${workdir}`]),
    ...(Array.isArray(dockerEntry) && JSON.stringify(dockerEntry) === JSON.stringify(entry)
      ? [] : [`ENTRYPOINT ${d.entrypoint.at(-1)} (exec form) vs quarkus.jib.jvm-entrypoint ${entry.join(",")}`]),
    ...(d.cmd.length === 0 ? [] : ["CMD would add arguments the Jib image does not have"]),
    ...(d.comments.some((c) => c.includes(`-t ${built} `)) ? [] : [`its build command does not tag ${built}`]),
  ]);
}
process.exit(failed ? 1 : 0);
