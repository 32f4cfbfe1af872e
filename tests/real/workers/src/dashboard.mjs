// Dashboard / gateway Worker (ES module) for scenario A, run by workerd through Miniflare.
//
// `/api/*` and `/auth/*` go to the backend through the service binding BACKEND; `/health` is
// answered here; everything else is the dashboard UI (HTML). Bindings: WORKER_NAME,
// ENVIRONMENT, BACKEND (service binding; absent in the `no-binding` variant).

const UI = `<!doctype html><html><head><title>Owokx Dashboard</title></head><body><div id="root"></div></body></html>`;

function under(pathname, prefix) {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

function own(response, env) {
  response.headers.set("x-served-by", env.WORKER_NAME);
  return response;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/health" && request.method === "GET") {
      const bindings = { BACKEND: env.BACKEND ? "bound" : "missing" };
      return own(
        Response.json({
          ok: true,
          data: {
            status: env.BACKEND ? "healthy" : "degraded",
            environment: env.ENVIRONMENT,
            worker: env.WORKER_NAME,
            bindings,
          },
          error: null,
        }),
        env,
      );
    }
    if (under(pathname, "/api") || under(pathname, "/auth")) {
      if (!env.BACKEND) {
        return own(
          Response.json(
            { ok: false, data: null, error: "service binding BACKEND is not configured" },
            { status: 502 },
          ),
          env,
        );
      }
      // The backend's answer is relayed as is (its x-served-by header included).
      return env.BACKEND.fetch(request);
    }
    return own(new Response(UI, { headers: { "content-type": "text/html; charset=utf-8" } }), env);
  },
};
