import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A loopback TCP proxy in front of a service, to make it unreachable without touching it: `cut('reset')` closes
 * every connection and refuses new ones at once; `cut('blackhole')` keeps accepting but forwards nothing, like a
 * dead uplink where packets vanish and only keepalives notice. `restore()` forwards again.
 */
export class TcpProxy {
  private mode: 'open' | 'reset' | 'blackhole' = 'open';
  private readonly pairs = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => holder.proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort);
    return holder.proxy;
  }

  get state(): string {
    return this.mode;
  }

  private accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    this.pairs.add(client);
    client.once('close', () => this.pairs.delete(client));
    if (this.mode === 'blackhole') return; // accepted, never answered
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.pairs.add(upstream);
    upstream.once('close', () => {
      this.pairs.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut(mode: 'reset' | 'blackhole'): void {
    this.mode = mode;
    if (mode === 'reset') for (const s of this.pairs) s.resetAndDestroy();
    else
      for (const s of this.pairs) {
        // Stop moving bytes both ways, but keep the sockets open: the peers only learn from their own timeouts.
        s.unpipe();
        s.pause();
      }
  }

  restore(): void {
    if (this.mode === 'blackhole') for (const s of this.pairs) s.destroy();
    this.mode = 'open';
  }

  async close(): Promise<void> {
    for (const s of this.pairs) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
