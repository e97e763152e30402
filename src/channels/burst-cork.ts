/**
 * One socket write per burst of messages. amqplib and mqtt.js write each message to the socket on its own (amqplib
 * from a setImmediate pass, mqtt.js from a nextTick uncork per packet): one syscall per message, the largest single
 * cost of a publisher at these rates. The returned function, called before each message is handed to the client,
 * corks the socket at the first message of a burst and uncorks it in the check phase of the same event-loop turn,
 * after the client's own write pass (scheduled from a nextTick of the write), so the burst leaves in one writev.
 * Also corks on 'drain', before the client writes its backlog. No timer and no added latency; the uncork always runs,
 * also when the connection dropped in between (uncorking a destroyed socket is harmless).
 */

/** The part of a socket (net.Socket, tls.TLSSocket) this needs. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  prependListener?(event: 'drain', listener: () => void): unknown;
}

/** Returns the function to call before each message; a no-op without a corkable socket. */
export function burstCork(socket: Partial<Corkable> | null | undefined): () => void {
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return () => {};
  const target = socket as Corkable;
  let corked = false;
  const uncork = () => {
    corked = false;
    target.uncork();
  };
  // The client schedules its write pass from a nextTick queued by the write that follows our call; a setImmediate
  // queued from a later nextTick runs after that pass in the same check phase.
  const scheduleUncork = () => setImmediate(uncork);
  const afterClientTick = () => process.nextTick(scheduleUncork);
  const begin = () => {
    if (corked) return;
    corked = true;
    target.cork();
    process.nextTick(afterClientTick);
  };
  // A client that met backpressure writes its backlog from its own 'drain' listener: cork before it runs.
  target.prependListener?.('drain', begin);
  return begin;
}
