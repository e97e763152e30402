/**
 * The HTTP plugins of the other modules, mounted on the service's app: the console page, the WebSocket stream and the
 * webhook admin API, each given what it needs from the running service.
 */
import type { PluginRegistration } from '../api/app.js';
import { consolePlugin } from '../api/console/index.js';
import type { BridgeService } from './service.js';

/** Every plugin the process mounts. */
export async function defaultPlugins(_service: BridgeService): Promise<PluginRegistration[]> {
  return [{ name: 'console', plugin: consolePlugin }];
}
