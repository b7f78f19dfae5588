import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP relay between one edge agent and the broker that can be cut, to show what a site's link failure looks like:
 * `cut()` resets every open connection and refuses new ones (as a dead uplink would), `restore()` lets them through.
 * The agent keeps its events in its outbox meanwhile and delivers them after reconnecting.
 */
export class LinkProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private down = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreamHost: string, upstreamPort: number): Promise<LinkProxy> {
    let proxy: LinkProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, upstreamHost, upstreamPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('link proxy has no address');
    proxy = new LinkProxy(server, address.port);
    return proxy;
  }

  get isDown(): boolean {
    return this.down;
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Errors here are the link failing, which is the point; both ends are closed and the agent reconnects.
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut(): void {
    this.down = true;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
