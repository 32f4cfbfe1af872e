#!/usr/bin/env node
// Serve the scenario A and D deployments on Cloudflare's workerd runtime (through Miniflare),
// on 127.0.0.1 only, until killed.
//
//   node serve.mjs [VARIANT] [--port N]
//
// VARIANT: healthy (default) | no-binding | backend-throws | legacy-health | staging-on-prod
// --port:  the port to listen on; 0 (default) lets the OS choose.
//
// Every worker listens on the same port and is chosen by the Host header (Miniflare routes):
//   scenario A  backend.owokx.test (owokx-backend), dashboard.owokx.test (owokx-dashboard,
//               with a service binding BACKEND to owokx-backend)
//   scenario D  {api,oauth,webhooks,app,mcp}{-staging,}.tminus.test (tminus-api, …)
// Point the host names at 127.0.0.1 (smokegate --resolve HOST:PORT:127.0.0.1).
//
// When ready it prints one JSON line on stdout:
//   {"ready":true,"variant":…,"address":"127.0.0.1","port":N,"a_hosts":{…},"d_domain":…,
//    "d_hosts":[…],"verify_token":…}
// It stops (and stops workerd) on SIGTERM, SIGINT, SIGHUP, or when its stdin closes.
//
// Nothing leaves the machine: Miniflare's request.cf lookup is off (cf: false), no upstream
// is set, and the workers make no outbound requests.

import { Miniflare, Log, LogLevel } from "miniflare";
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";

const VARIANTS = ["healthy", "no-binding", "backend-throws", "legacy-health", "staging-on-prod"];
const here = path.dirname(fileURLToPath(import.meta.url));
const src = (name) => path.join(here, "src", name);
const COMPATIBILITY_DATE = "2025-07-01";

function usage(message) {
  process.stderr.write(`serve.mjs: ${message}\nusage: node serve.mjs [${VARIANTS.join("|")}] [--port N]\n`);
  process.exit(2);
}

let variant = "healthy";
let port = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--port") {
    port = Number(args[++i]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad --port ${args[i]}`);
  } else if (VARIANTS.includes(a)) {
    variant = a;
  } else {
    usage(`unknown argument ${a}`);
  }
}

const jwtSecret = randomBytes(32).toString("hex");
const verifyToken = `verify-${randomUUID()}`;

/** A worker running the backend script (or its legacy build in the legacy-health variant). */
function backendWorker({ name, worker, environment, host, users, version, verify }) {
  const config = { version };
  const bindings = {
    WORKER_NAME: worker,
    ENVIRONMENT: environment,
    JWT_SECRET: jwtSecret,
    APP_CONFIG: JSON.stringify(config),
  };
  if (verify) bindings.VERIFY_TOKEN = verifyToken;
  return {
    name,
    modules: true,
    scriptPath: src(variant === "legacy-health" ? "backend-legacy.mjs" : "backend.mjs"),
    compatibilityDate: COMPATIBILITY_DATE,
    routes: [`${host}/*`],
    bindings,
    kvNamespaces: { USERS: users },
  };
}

const workers = [];
// First worker: Miniflare sends requests whose host matches no route to it.
workers.push({
  name: "no-route",
  modules: true,
  scriptPath: src("no-route.mjs"),
  compatibilityDate: COMPATIBILITY_DATE,
});

// Scenario A.
const aHosts = { backend: "backend.owokx.test", dashboard: "dashboard.owokx.test" };
const owokxBackend = backendWorker({
  name: "owokx-backend",
  worker: "owokx-backend",
  environment: "production",
  host: aHosts.backend,
  users: "owokx-users",
  version: "1.4.2",
  verify: true,
});
if (variant === "backend-throws") delete owokxBackend.bindings.APP_CONFIG;
workers.push(owokxBackend);
workers.push({
  name: "owokx-dashboard",
  modules: true,
  scriptPath: src("dashboard.mjs"),
  compatibilityDate: COMPATIBILITY_DATE,
  routes: [`${aHosts.dashboard}/*`],
  bindings: { WORKER_NAME: "owokx-dashboard", ENVIRONMENT: "production" },
  serviceBindings: variant === "no-binding" ? {} : { BACKEND: "owokx-backend" },
});

// Scenario D: five workers in two environments.
const dDomain = "tminus.test";
const dWorkers = [
  ["api", "tminus-api"],
  ["oauth", "tminus-oauth"],
  ["webhooks", "tminus-webhook"],
  ["app", "tminus-app-gateway"],
  ["mcp", "tminus-mcp"],
];
const dEnvironments = [
  ["-staging", "staging"],
  ["", "production"],
];
const dHosts = [];
for (const [label, worker] of dWorkers) {
  for (const [suffix, environment] of dEnvironments) {
    const host = `${label}${suffix}.${dDomain}`;
    dHosts.push(host);
    // staging-on-prod: the staging build is deployed under the production names.
    const stagingBuild = environment === "staging" || variant === "staging-on-prod";
    const w = backendWorker({
      name: `${worker}${suffix || "-production"}`,
      worker,
      environment: stagingBuild ? "staging" : environment,
      host,
      users: `tminus-users-${environment}`,
      version: stagingBuild ? "2.4.0-rc.1" : "2.3.0",
      verify: false,
    });
    if (variant === "backend-throws" && label === "api") delete w.bindings.APP_CONFIG;
    workers.push(w);
  }
}

const mf = new Miniflare({
  host: "127.0.0.1",
  port,
  cf: false,
  log: new Log(LogLevel.WARN),
  workers,
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => stop(0));
// The parent holds our stdin open; when it goes away, so do we (and workerd with us).
process.stdin.on("end", () => stop(0));
process.stdin.on("error", () => stop(0));
process.stdin.resume();

try {
  const url = await mf.ready;
  const line = {
    ready: true,
    variant,
    address: url.hostname,
    port: Number(url.port),
    a_hosts: aHosts,
    d_domain: dDomain,
    d_hosts: dHosts,
    verify_token: verifyToken,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} catch (e) {
  process.stderr.write(`serve.mjs: workerd did not start: ${e?.stack ?? e}\n`);
  await stop(1);
}
