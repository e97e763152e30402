/**
 * The WebSocket stream as a module of the service: mounts `GET /v1/stream` on the service's app, fed by the service's
 * event stream (cursor replay, then live) and counted in its channel metrics.
 */
import type { BridgeExtension } from '../../service/service.js';
import { streamPlugin, type StreamRouteOptions } from './stream-plugin.js';

/** The stream extension; `options` tune the per-client buffer and heartbeat. */
export function websocketExtension(
  options: Pick<StreamRouteOptions, 'maxBufferedBytes' | 'heartbeatMs' | 'stallMs'> = {},
): BridgeExtension {
  return {
    name: 'websocket',
    plugins: (service) => [
      {
        name: 'websocket',
        plugin: streamPlugin,
        options: {
          ...options,
          source: service.eventStream,
          metrics: service.metrics,
          logger: service.logger.child({ channel: 'websocket' }),
        } satisfies StreamRouteOptions,
      },
    ],
  };
}
