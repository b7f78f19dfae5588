import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a stand-in saw it, with the body parsed the way the real service would (JSON, form, multipart). */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  json: Record<string, unknown> | null;
  form: Map<string, string | { name: string; type: string; bytes: Buffer }>;
  at: number;
}

/** Reads and parses a request body; multipart through the platform's own FormData parser. */
export async function readRequest(req: IncomingMessage): Promise<SeenRequest> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const type = req.headers['content-type'] ?? '';
  const seen: SeenRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    json: null,
    form: new Map(),
    at: Date.now(),
  };
  if (type.startsWith('application/json')) seen.json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  else if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
    const form = await new Request('http://stand-in/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: raw,
    }).formData();
    for (const [k, v] of form.entries()) {
      if (typeof v === 'string') seen.form.set(k, v);
      else seen.form.set(k, { name: v.name, type: v.type, bytes: Buffer.from(await v.arrayBuffer()) });
    }
  }
  return seen;
}

export function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Starts an HTTP server on loopback; `close` ends it. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
