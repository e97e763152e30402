/**
 * A TCP proxy in front of a real server, for tests that need the network to misbehave at a chosen moment: it records
 * what each side sent per connection, can hold back what the server sends (e.g. a broker's acknowledgements) or what
 * the client sends (e.g. messages the broker then never receives) and can cut every connection at once, as a network
 * failure would, while the server itself stays up.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export interface ProxiedConnection {
  /** Bytes from the client, in order. */
  fromClient: Buffer[];
  /** Bytes from the server, in order (also those held back). */
  fromServer: Buffer[];
}

export interface TcpProxy {
  port: number;
  /** Connections so far, oldest first. */
  connections: ProxiedConnection[];
  /** While true, what the server sends is kept, not forwarded (it is dropped if the connection is cut). */
  holdServer: boolean;
  /** While true, what the client sends is kept, not forwarded (it is dropped if the connection closes). */
  holdClient: boolean;
  /** Called with every chunk from the client / server, before it is forwarded (or held). */
  onClientData?: (conn: ProxiedConnection, chunk: Buffer) => void;
  onServerData?: (conn: ProxiedConnection, chunk: Buffer) => void;
  /** Destroys every open connection, both sides. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const proxy: TcpProxy = {
    port: 0,
    connections: [],
    holdServer: false,
    holdClient: false,
    cut() {
      for (const s of open) s.destroy();
      open.clear();
    },
    async close() {
      proxy.cut();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect(targetPort, host);
    upstream.setNoDelay(true);
    open.add(client);
    open.add(upstream);
    const conn: ProxiedConnection = { fromClient: [], fromServer: [] };
    proxy.connections.push(conn);
    const toClient = holder(client, () => proxy.holdServer);
    const toServer = holder(upstream, () => proxy.holdClient);
    client.on('data', (chunk: Buffer) => {
      conn.fromClient.push(chunk);
      proxy.onClientData?.(conn, chunk);
      toServer.forward(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      conn.fromServer.push(chunk);
      proxy.onServerData?.(conn, chunk);
      toClient.forward(chunk);
    });
    const end = () => {
      toClient.stop();
      toServer.stop();
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

/** Forwards chunks to `to` in order, keeping them while `holding()` is true and releasing them once it is false. */
function holder(to: Socket, holding: () => boolean): { forward(chunk: Buffer): void; stop(): void } {
  const held: Buffer[] = [];
  let releaser: NodeJS.Timeout | null = null;
  const release = () => {
    if (holding() || to.destroyed) return;
    if (releaser) clearInterval(releaser);
    releaser = null;
    for (const chunk of held.splice(0)) to.write(chunk);
  };
  return {
    forward(chunk) {
      if (holding() || held.length > 0) {
        held.push(chunk);
        releaser ??= setInterval(release, 5);
      } else to.write(chunk);
    },
    stop() {
      if (releaser) clearInterval(releaser);
      releaser = null;
    },
  };
}
