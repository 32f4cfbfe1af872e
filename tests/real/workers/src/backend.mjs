// Backend Worker (ES module) for scenarios A and D, run by workerd through Miniflare.
//
// One script, deployed under several names (serve.mjs): the scenario A backend
// (`owokx-backend`) and the five scenario D workers of each environment (`tminus-api`, …).
// What it is told through its bindings:
//   WORKER_NAME   the name it reports in its health envelope and the x-served-by header
//   ENVIRONMENT   development | staging | production
//   APP_CONFIG    JSON text {"version": "..."}; read on every request (a deployment without it
//                 throws, and workerd answers 500)
//   JWT_SECRET    HMAC-SHA256 key of the access tokens it issues and accepts
//   VERIFY_TOKEN  optional static token accepted by the scenario A protected routes
//   USERS         KV namespace of registered users
//
// Routes:
//   GET  /health              enriched envelope {ok, data:{status, environment, worker, version, bindings}, error, meta}
//   GET  /api/status          {ok, data:{status, served_by}}
//   GET  /api/swarm/health    {ok, data:{healthy, agents, served_by}}
//   GET  /api/agent/config    protected
//   GET  /auth/session        protected, answered by the auth handler (data.handler = owokx-auth)
//   GET  /v1/events           protected
//   POST /v1/auth/register    {email, password} → 201 {data:{user, access_token, refresh_token}}
//   POST /v1/auth/login       {email, password} → 200 {data:{user, access_token}}
// Without a valid token, protected routes answer 401 with the error envelope.

const encoder = new TextEncoder();

/** The standard response envelope: {ok, data, error, meta}. */
function envelope(status, data, error, extraHeaders = {}) {
  const body = {
    ok: error === null,
    data,
    error,
    meta: { request_id: crypto.randomUUID(), timestamp: new Date().toISOString() },
  };
  return Response.json(body, { status, headers: extraHeaders });
}

function fail(status, error) {
  return envelope(status, null, error);
}

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64urlDecode(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function hmacKey(secret) {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** An HS256 JWT for `sub` in `environment`, valid for 15 minutes. */
async function issueToken(secret, sub, environment) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = b64url(encoder.encode(JSON.stringify({ sub, env: environment, iat: now, exp: now + 900 })));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64url(new Uint8Array(sig))}`;
}

/** The claims of a valid token, or null. */
async function verifyToken(secret, token, environment) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const ok = await crypto.subtle.verify(
      "HMAC",
      await hmacKey(secret),
      b64urlDecode(parts[2]),
      encoder.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!ok) return null;
    const claims = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[1])));
    if (claims.env !== environment || claims.exp < Date.now() / 1000) return null;
    return claims;
  } catch {
    return null;
  }
}

function bearer(request) {
  const h = request.headers.get("authorization") || "";
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m ? m[1].trim() : null;
}

/** Whether the request carries the verify token or a valid access token. */
async function authorized(request, env) {
  const token = bearer(request);
  if (!token) return false;
  if (env.VERIFY_TOKEN && token === env.VERIFY_TOKEN) return true;
  if (!env.JWT_SECRET) return false;
  return (await verifyToken(env.JWT_SECRET, token, env.ENVIRONMENT)) !== null;
}

async function passwordHash(password, salt) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations: 1000 },
    key,
    256,
  );
  return b64url(new Uint8Array(bits));
}

async function readCredentials(request) {
  let body;
  try {
    body = await request.json();
  } catch (e) {
    return { error: fail(400, `Invalid request body: ${e.message}`) };
  }
  const email = typeof body?.email === "string" ? body.email.trim() : "";
  const password = typeof body?.password === "string" ? body.password : "";
  if (!email.includes("@")) return { error: fail(400, "A valid email address is required") };
  if (password.length < 8) return { error: fail(400, "Password must be at least 8 characters") };
  return { email, password };
}

function userKey(email) {
  return `user:${email.toLowerCase()}`;
}

async function register(request, env) {
  const creds = await readCredentials(request);
  if (creds.error) return creds.error;
  if (await env.USERS.get(userKey(creds.email))) return fail(409, "Email already registered");
  const salt = crypto.randomUUID();
  const user = {
    id: `usr_${crypto.randomUUID()}`,
    email: creds.email,
    salt,
    hash: await passwordHash(creds.password, salt),
  };
  await env.USERS.put(userKey(creds.email), JSON.stringify(user));
  if (!env.JWT_SECRET) return fail(500, "JWT_SECRET is not configured");
  return envelope(201, {
    user: { id: user.id, email: user.email },
    access_token: await issueToken(env.JWT_SECRET, user.id, env.ENVIRONMENT),
    refresh_token: b64url(crypto.getRandomValues(new Uint8Array(32))),
  }, null);
}

async function login(request, env) {
  const creds = await readCredentials(request);
  if (creds.error) return creds.error;
  const stored = await env.USERS.get(userKey(creds.email), "json");
  if (!stored || (await passwordHash(creds.password, stored.salt)) !== stored.hash) {
    return fail(401, "Invalid credentials");
  }
  if (!env.JWT_SECRET) return fail(500, "JWT_SECRET is not configured");
  return envelope(200, {
    user: { id: stored.id, email: stored.email },
    access_token: await issueToken(env.JWT_SECRET, stored.id, env.ENVIRONMENT),
  }, null);
}

/** The state of each binding this worker depends on. */
async function bindingStates(env) {
  const bindings = {};
  try {
    await env.USERS.get("health:probe");
    bindings.USERS = "ok";
  } catch {
    bindings.USERS = "missing";
  }
  bindings.JWT_SECRET = env.JWT_SECRET ? "ok" : "missing";
  return bindings;
}

async function health(env, config) {
  const bindings = await bindingStates(env);
  const status = Object.values(bindings).every((s) => s === "ok") ? "healthy" : "degraded";
  return envelope(200, {
    status,
    environment: env.ENVIRONMENT,
    worker: env.WORKER_NAME,
    version: config.version,
    bindings,
  }, null);
}

async function route(request, env) {
  // Every request reads the deployment's configuration first.
  const config = JSON.parse(env.APP_CONFIG);
  const { pathname } = new URL(request.url);
  const method = request.method;
  const served = env.WORKER_NAME;
  if (pathname === "/health") {
    return method === "GET" ? health(env, config) : fail(405, "Method not allowed");
  }
  if (pathname === "/api/status" && method === "GET") {
    return envelope(200, { status: "running", served_by: served }, null);
  }
  if (pathname === "/api/swarm/health" && method === "GET") {
    return envelope(200, { healthy: true, agents: 3, served_by: served }, null);
  }
  if (pathname === "/api/agent/config" && method === "GET") {
    if (!(await authorized(request, env))) return fail(401, "Unauthorized");
    return envelope(200, { mode: "paper" }, null);
  }
  if (pathname === "/auth/session" && method === "GET") {
    if (!(await authorized(request, env))) {
      return Response.json({ ok: false, data: null, error: "no session", handler: "owokx-auth" }, { status: 401 });
    }
    return envelope(200, { user: "verifier", handler: "owokx-auth" }, null);
  }
  if (pathname === "/v1/events" && method === "GET") {
    if (!(await authorized(request, env))) return fail(401, "Unauthorized");
    return envelope(200, [{ id: "evt_1", title: "Standup" }], null);
  }
  if (pathname === "/v1/auth/register" && method === "POST") return register(request, env);
  if (pathname === "/v1/auth/login" && method === "POST") return login(request, env);
  return fail(404, "Not found");
}

export default {
  async fetch(request, env) {
    const response = await route(request, env);
    // Every answer says which worker produced it.
    response.headers.set("x-served-by", env.WORKER_NAME);
    return response;
  },
};
