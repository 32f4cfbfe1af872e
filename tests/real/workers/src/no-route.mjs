// Answers requests for host names no worker is routed on (Miniflare sends them to the first
// worker): 404 with the error envelope, like an edge with no route.

export default {
  async fetch(request) {
    const { hostname } = new URL(request.url);
    return Response.json({ ok: false, data: null, error: `no worker is routed on ${hostname}` }, { status: 404 });
  },
};
