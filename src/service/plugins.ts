/**
 * The modules that run inside the process besides the pipeline: each a `BridgeExtension` (see service.ts). Add a
 * module here with one entry; it gets the running service at start.
 */
import { consolePlugin } from '../api/console/index.js';
import type { BridgeExtension } from './service.js';
import { webhooksExtension } from '../delivery/webhooks-extension.js';
import { websocketExtension } from '../channels/websocket/extension.js';

/** The console page at `/`. */
const consoleExtension: BridgeExtension = {
  name: 'console',
  plugins: () => [{ name: 'console', plugin: consolePlugin }],
};

/** Every extension the process runs, in start order. */
export function defaultExtensions(): BridgeExtension[] {
  return [webhooksExtension(), websocketExtension(), consoleExtension];
}
