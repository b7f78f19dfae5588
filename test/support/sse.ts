import { request } from 'node:http';

export interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
}

/** A plain SSE client over node:http, as a browser's EventSource would behave (minus auto-reconnect). */
export async function openSse(url: string, headers: Record<string, string>) {
  const messages: SseMessage[] = [];
  let status = 0;
  let raw = '';
  let contentType = '';
  let markEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
  await new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      contentType = String(res.headers['content-type']);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const m: Partial<SseMessage> & { lines: string[] } = { lines: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) m.id = line.slice(4);
            else if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('data: ')) m.lines.push(line.slice(6));
          }
          if (m.event) messages.push({ id: m.id, event: m.event, data: JSON.parse(m.lines.join('\n')) });
        }
      });
      res.on('end', () => markEnded());
      res.on('close', () => markEnded());
      // close() destroys the socket on purpose; that is not a failure of the stream.
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
  return {
    messages,
    status: () => status,
    contentType: () => contentType,
    /** Everything received so far (an error response's JSON body, for instance). */
    text: () => raw,
    /** Resolves when the server ends the stream (or the socket closes). */
    ended,
    close: () => req.destroy(),
  };
}
