// An older build of the backend (ES module): same routes, but /health still answers the legacy
// body {"status":"ok"} instead of the enriched envelope. Deployed by the `legacy-health` variant.

import backend from "./backend.mjs";

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/health" && request.method === "GET") {
      return Response.json({ status: "ok" }, { headers: { "x-served-by": env.WORKER_NAME } });
    }
    return backend.fetch(request, env, ctx);
  },
};
