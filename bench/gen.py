#!/usr/bin/env python3
"""Generate the same benchmark workloads for smokegate, Hurl, Newman and Step CI.

One description (the CHECKS below: request + expectations) is rendered into each tool's own
format. Standard library only.

    gen.py OUT_DIR [--w2 2000] [--big 20000] [--huge 100000] [--chains 200] [--jobs 64]

Every workload takes its base URL as a variable (`base`), so the same files run over plain
HTTP and over HTTPS.

Writes, under OUT_DIR:
    health.schema.json                    self-contained JSON Schema of the enriched envelope
    smokegate/{w1,w2,one,chain}/suite.yaml
    smokegate/{big,huge}/suite-NN.yaml    the scale runs (--big and --huge cases, 2,000 a file)
    hurl/{w1,w2,one,chain}/NNNN.hurl      one file per check (Hurl parallelises files)
    newman/{w1,w2}.postman_collection.json
    stepci/{w1,w2}.yml
    counts.json                           checks per workload
"""

import argparse
import json
import os
import shutil

# The enriched health envelope schema (schemas/enriched-health.schema.json with
# schemas/common.schema.json inlined), draft-07 so that every validator in the comparison
# (jsonschema crate, Ajv in Step CI, Ajv in the Postman sandbox) reads it the same way.
HEALTH_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "enriched health envelope",
    "type": "object",
    "required": ["ok", "data"],
    "properties": {
        "ok": {"const": True},
        "data": {
            "type": "object",
            "required": ["status", "environment", "worker", "bindings"],
            "properties": {
                "status": {"enum": ["healthy", "degraded"]},
                "environment": {"type": "string", "enum": ["development", "staging", "production"]},
                "worker": {"type": "string", "minLength": 1},
                "version": {"type": "string"},
                "bindings": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "error": {"type": ["null", "string", "object"]},
        "meta": {"type": "object"},
    },
}

# ---------------------------------------------------------------------------------------------
# The one description. A check is a dict:
#   name, method, path, headers {}, json (body) | None,
#   status, header_eq {name: value}, header_re {name: regex},
#   jp: [(path, op, value)] with op in eq | one_of | type,
#   schema: bool
# ---------------------------------------------------------------------------------------------


def health_check(name):
    return {
        "name": name,
        "method": "GET",
        "path": "/health",
        "headers": {},
        "json": None,
        "status": 200,
        "header_eq": {},
        "header_re": {},
        "jp": [
            ("$.ok", "eq", True),
            ("$.data.status", "one_of", ["healthy", "degraded"]),
            ("$.data.environment", "eq", "production"),
        ],
        "schema": True,
    }


def w1_checks():
    """~30 gate-shaped checks, like the bundled scenario suites: enriched health with schema,
    anonymous 401 on a protected route (with a JSON body), routed API call with headers."""
    checks = []
    for i in range(1, 11):
        c = health_check(f"worker {i:02d} health")
        c["header_re"] = {"content-type": "^application/json"}
        c["jp"] = c["jp"] + [("$.data.bindings.DB", "eq", "ok"), ("$.data.worker", "type", "string")]
        checks.append(c)
        checks.append({
            "name": f"worker {i:02d} protected route refuses anonymous calls",
            "method": "POST",
            "path": "/v1/events",
            "headers": {},
            "json": {"type": "smoke", "worker": i},
            "status": 401,
            "header_eq": {},
            "header_re": {},
            "jp": [("$.ok", "eq", False), ("$.error", "eq", "Unauthorized")],
            "schema": False,
        })
        checks.append({
            "name": f"worker {i:02d} routed /api/status reaches the backend",
            "method": "GET",
            "path": "/api/status",
            "headers": {"Authorization": "Bearer smoke-token"},
            "json": None,
            "status": 200,
            "header_eq": {"x-served-by": "owokx-backend"},
            "header_re": {"content-type": "^application/json"},
            "jp": [("$.data.served_by", "eq", "owokx-backend"), ("$.data.healthy", "eq", True)],
            "schema": False,
        })
    return checks


def chain_case_smokegate(i):
    """register -> capture the token (a secret) -> bearer call that only that token opens."""
    return "\n".join([
        f"  - name: {y(f'chain {i:05d}')}",
        "    steps:",
        "      - name: register",
        "        request:",
        "          method: POST",
        "          url: ${base}/auth/register",
        f"          json: {y({'user': 'bench', 'n': i})}",
        "        expect:",
        "          status: 201",
        "        capture:",
        "          token: { jsonpath: $.data.access_token, secret: true }",
        "      - name: profile with the captured token",
        "        request:",
        "          url: ${base}/me",
        "          headers:",
        "            Authorization: Bearer ${token}",
        "        expect:",
        "          status: 200",
        "          jsonpath:",
        "            - { path: $.data.user, equals: bench }",
    ])


def chain_hurl(i):
    return "\n".join([
        f"# chain {i:05d}",
        "POST {{base}}/auth/register",
        json.dumps({"user": "bench", "n": i}),
        "HTTP 201",
        "[Captures]",
        'token: jsonpath "$.data.access_token" redact',
        "",
        "GET {{base}}/me",
        "Authorization: Bearer {{token}}",
        "HTTP 200",
        "[Asserts]",
        'jsonpath "$.data.user" == "bench"',
    ]) + "\n"


def w2_checks(n):
    """n independent checks of GET /health: status + JSONPath + schema."""
    return [health_check(f"health {i:05d}") for i in range(1, n + 1)]


# ---------------------------------------------------------------------------------------------
# smokegate (YAML written by hand: block style, as a user would write it)
# ---------------------------------------------------------------------------------------------


def y(v):
    """A YAML scalar / flow value (JSON is valid YAML flow syntax)."""
    return json.dumps(v)


def smokegate_suite(name, checks, schema_rel):
    out = [
        f"name: {name}",
        "vars:",
        "  base: ${env.BENCH_BASE}",
        "cases:",
    ]
    for c in checks:
        out.append(f"  - name: {y(c['name'])}")
        out.append("    request:")
        if c["method"] != "GET":
            out.append(f"      method: {c['method']}")
        out.append(f"      url: {y('${base}' + c['path'])}")
        if c["headers"]:
            out.append("      headers:")
            for k, v in c["headers"].items():
                out.append(f"        {k}: {y(v)}")
        if c["json"] is not None:
            out.append(f"      json: {y(c['json'])}")
        out.append("    expect:")
        out.append(f"      status: {c['status']}")
        if c["header_eq"] or c["header_re"]:
            out.append("      headers:")
            for k, v in c["header_eq"].items():
                out.append(f"        {k}: {y(v)}")
            for k, v in c["header_re"].items():
                out.append(f"        {k}: {{ matches: {y(v)} }}")
        if c["jp"]:
            out.append("      jsonpath:")
            for path, op, val in c["jp"]:
                key = {"eq": "equals", "one_of": "one_of", "type": "type"}[op]
                out.append(f"        - {{ path: {y(path)}, {key}: {y(val)} }}")
        if c["schema"]:
            out.append(f"      schema: {schema_rel}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Hurl (no JSON Schema assert: status, headers and JSONPath only)
# ---------------------------------------------------------------------------------------------


def hurl_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


def hurl_regex(r):
    return "/" + r.replace("/", "\\/") + "/"


def hurl_entry(c):
    out = [f"# {c['name']}", f"{c['method']} {{{{base}}}}{c['path']}"]
    for k, v in c["headers"].items():
        out.append(f"{k}: {v}")
    if c["json"] is not None:
        out.append(json.dumps(c["json"]))
    out.append(f"HTTP {c['status']}")
    for k, v in c["header_eq"].items():
        out.append(f"{k}: {v}")
    out.append("[Asserts]")
    for k, v in c["header_re"].items():
        out.append(f"header \"{k}\" matches {hurl_regex(v)}")
    for path, op, val in c["jp"]:
        if op == "eq":
            out.append(f"jsonpath \"{path}\" == {hurl_value(val)}")
        elif op == "one_of":
            out.append(f"jsonpath \"{path}\" matches {hurl_regex('^(' + '|'.join(val) + ')$')}")
        elif op == "type":
            out.append(f"jsonpath \"{path}\" {'isString' if val == 'string' else 'exists'}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Newman (Postman collection v2.1; pm.test scripts; schema via pm.response.to.have.jsonSchema)
# ---------------------------------------------------------------------------------------------


def newman_item(c):
    js = [
        f"pm.test('status', function () {{ pm.response.to.have.status({c['status']}); }});",
    ]
    for k, v in c["header_eq"].items():
        js.append(f"pm.test('header {k}', function () {{ pm.expect(pm.response.headers.get({json.dumps(k)})).to.eql({json.dumps(v)}); }});")
    for k, v in c["header_re"].items():
        js.append(f"pm.test('header {k}', function () {{ pm.expect(pm.response.headers.get({json.dumps(k)})).to.match(new RegExp({json.dumps(v)})); }});")
    if c["jp"] or c["schema"]:
        js.append("var body = pm.response.json();")
    for path, op, val in c["jp"]:
        expr = "body" + path[1:]  # $.a.b -> body.a.b (simple dotted paths only)
        if op == "eq":
            js.append(f"pm.test({json.dumps(path)}, function () {{ pm.expect({expr}).to.eql({json.dumps(val)}); }});")
        elif op == "one_of":
            js.append(f"pm.test({json.dumps(path)}, function () {{ pm.expect({expr}).to.be.oneOf({json.dumps(val)}); }});")
        elif op == "type":
            js.append(f"pm.test({json.dumps(path)}, function () {{ pm.expect({expr}).to.be.a({json.dumps(val)}); }});")
    if c["schema"]:
        js.append("pm.test('schema', function () { pm.response.to.have.jsonSchema(JSON.parse(pm.collectionVariables.get('health_schema'))); });")
    header = [{"key": k, "value": v} for k, v in c["headers"].items()]
    req = {"method": c["method"], "url": "{{base}}" + c["path"], "header": header}
    if c["json"] is not None:
        req["header"].append({"key": "Content-Type", "value": "application/json"})
        req["body"] = {"mode": "raw", "raw": json.dumps(c["json"])}
    return {
        "name": c["name"],
        "request": req,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": js}}],
    }


def newman_collection(name, checks):
    return {
        "info": {
            "name": name,
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "health_schema", "value": json.dumps(HEALTH_SCHEMA)}],
        "item": [newman_item(c) for c in checks],
    }


# ---------------------------------------------------------------------------------------------
# Step CI (workflow; one test per check so that they run concurrently)
# ---------------------------------------------------------------------------------------------


def stepci_test(c):
    step = {"name": c["name"], "http": {"url": "${{env.base}}" + c["path"], "method": c["method"]}}
    if c["headers"]:
        step["http"]["headers"] = dict(c["headers"])
    if c["json"] is not None:
        step["http"]["json"] = c["json"]
    check = {"status": c["status"]}
    hdrs = {}
    for k, v in c["header_eq"].items():
        hdrs[k] = v
    for k, v in c["header_re"].items():
        hdrs[k] = [{"match": v}]
    if hdrs:
        check["headers"] = hdrs
    if c["jp"]:
        jp = {}
        for path, op, val in c["jp"]:
            if op == "eq":
                jp[path] = val
            elif op == "one_of":
                jp[path] = [{"match": "^(" + "|".join(val) + ")$"}]
            elif op == "type":
                jp[path] = [{"isString": True}] if val == "string" else [{"isDefined": True}]
        check["jsonpath"] = jp
    if c["schema"]:
        check["schema"] = {"$ref": "#/components/schemas/Health"}
    step["http"]["check"] = check
    return {"name": c["name"], "steps": [step]}


def stepci_workflow(name, checks):
    schema = {k: v for k, v in HEALTH_SCHEMA.items() if k != "$schema"}
    wf = {
        "version": "1.1",
        "name": name,
        "env": {"base": "http://127.0.0.1"},  # overridden with -e base=...
        "components": {"schemas": {"Health": schema}},
        "tests": {f"t{i:05d}": stepci_test(c) for i, c in enumerate(checks)},
    }
    return json.dumps(wf, indent=1) + "\n"  # JSON is YAML


# ---------------------------------------------------------------------------------------------


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--w2", type=int, default=2000)
    ap.add_argument("--big", type=int, default=20000)
    ap.add_argument("--huge", type=int, default=100000, help="checks of the peak-RSS run")
    ap.add_argument("--chains", type=int, default=200, help="register -> capture -> bearer chains")
    ap.add_argument("--jobs", type=int, default=64, help="Hurl per-worker layout: files for W2")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    for d in ("smokegate", "hurl", "newman", "stepci"):
        shutil.rmtree(os.path.join(out, d), ignore_errors=True)
    write(os.path.join(out, "health.schema.json"), json.dumps(HEALTH_SCHEMA, indent=2) + "\n")

    # "one": the one-check gate (process start to exit).
    workloads = {"w1": w1_checks(), "w2": w2_checks(a.w2), "one": w2_checks(1)}
    for wl, checks in workloads.items():
        write(os.path.join(out, "smokegate", wl, "suite.yaml"),
              smokegate_suite(f"bench-{wl}", checks, "../../health.schema.json"))
        for i, c in enumerate(checks):
            write(os.path.join(out, "hurl", wl, f"{i:05d}.hurl"), hurl_entry(c))
        write(os.path.join(out, "newman", f"{wl}.postman_collection.json"),
              json.dumps(newman_collection(f"bench-{wl}", checks)) + "\n")
        write(os.path.join(out, "stepci", f"{wl}.yml"), stepci_workflow(f"bench-{wl}", checks))
    # Hurl runs files in parallel and the entries of a file in sequence: the same W2 checks as
    # one file per worker (--jobs files), which lets each worker reuse its connection.
    per = [[] for _ in range(a.jobs)]
    for i, c in enumerate(workloads["w2"]):
        per[i % a.jobs].append(hurl_entry(c))
    for k, entries in enumerate(per):
        write(os.path.join(out, "hurl", "w2-per-worker", f"{k:03d}.hurl"), "\n".join(entries))
    # The chained workload: one case (smokegate) / one file (Hurl) per chain.
    head = ["name: bench-chain", "vars:", "  base: ${env.BENCH_BASE}", "cases:"]
    write(os.path.join(out, "smokegate", "chain", "suite.yaml"),
          "\n".join(head + [chain_case_smokegate(i) for i in range(1, a.chains + 1)]) + "\n")
    for i in range(1, a.chains + 1):
        write(os.path.join(out, "hurl", "chain", f"{i:05d}.hurl"), chain_hurl(i))
    # The scale runs: --big / --huge checks in one smokegate process, as files of at most 2,000
    # cases (one YAML document of 20,000 cases exceeds serde-saphyr's default 250,000-node
    # parse budget).
    for wl, n in (("big", a.big), ("huge", a.huge)):
        checks = w2_checks(n)
        for k in range(0, n, 2000):
            write(os.path.join(out, "smokegate", wl, f"suite-{k // 2000:02d}.yaml"),
                  smokegate_suite(f"bench-{wl}-{k // 2000:02d}", checks[k:k + 2000],
                                  "../../health.schema.json"))
    counts = {"w1": len(workloads["w1"]), "w2": a.w2, "big": a.big, "huge": a.huge,
              "chain": a.chains}
    write(os.path.join(out, "counts.json"), json.dumps(counts) + "\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
