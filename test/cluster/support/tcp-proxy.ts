/**
 * A loopback TCP proxy for network faults between a client and a server: it passes bytes both ways until told to
 * `blackhole()`, after which it keeps every connection open but forwards nothing in either direction and accepts
 * new connections without connecting them upstream, as a partition that drops packets does (no RST, no FIN: the
 * peers only notice through their own timeouts). `heal()` forwards again (what was received meanwhile is
 * dropped, as a partition would); `resetAll()` destroys every connection at once; `refuse()` closes every
 * connection and each new one at once (a server that is down) until `heal()`.
 */
import net from 'node:net';

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket | undefined }>();
  private dropping = false;
  private refusing = false;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const pair: { client: net.Socket; upstream: net.Socket | undefined } = { client, upstream: undefined };
    this.pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    });
    client.on('data', (d: Buffer) => {
      if (!this.dropping) pair.upstream?.write(d);
    });
    // A connection accepted while dropping is never connected upstream: the client waits for an answer that
    // does not come.
    if (!this.dropping) this.connectUpstream(pair);
  }

  private connectUpstream(pair: { client: net.Socket; upstream: net.Socket | undefined }): void {
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    pair.upstream = upstream;
    pair.client.pause();
    upstream.on('connect', () => pair.client.resume());
    upstream.on('error', () => {});
    upstream.on('close', () => pair.client.destroy());
    upstream.on('data', (d: Buffer) => {
      if (!this.dropping) pair.client.write(d);
    });
  }

  blackhole(): void {
    this.refusing = false;
    this.dropping = true;
  }

  refuse(): void {
    this.refusing = true;
    this.resetAll();
  }

  heal(): void {
    this.dropping = false;
    this.refusing = false;
  }

  resetAll(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
