// MQTT: topics are <prefix>/<site>/<aggregate>/<action>; QoS 1 and a persistent session survive reconnects.
import mqtt from 'mqtt';
import type { BridgeEvent } from './event.js';

const client = mqtt.connect('mqtt://127.0.0.1:1883', {
  clientId: 'ward-dashboard-1', // stable, so the broker keeps the session while we are away
  clean: false,
  protocolVersion: 5,
});
client.on('connect', () => {
  client.subscribe(['openmrs/clinic-a/visit/#', 'openmrs/clinic-a/encounter/created'], { qos: 1 });
});
client.on('message', (topic, payload) => {
  const event = JSON.parse(payload.toString('utf8')) as BridgeEvent;
  console.log(topic, event.type, event.patientuuid, event.time);
});
