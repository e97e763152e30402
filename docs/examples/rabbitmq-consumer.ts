// RabbitMQ: bind your own durable queue to the routing keys you want (<site>.<aggregate>.<action>).
import amqp from 'amqplib';
import type { BridgeEvent } from './event.js';

const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
const channel = await connection.createChannel();
await channel.assertExchange('openmrs.events', 'topic', { durable: true });
const { queue } = await channel.assertQueue('lab-app.obs', { durable: true });
await channel.bindQueue(queue, 'openmrs.events', 'clinic-a.obs.*'); // every Obs event of site clinic-a
await channel.bindQueue(queue, 'openmrs.events', '*.patient.created'); // new patients of every site
await channel.prefetch(100);

const seen = new Set<string>(); // use your database in real life: delivery is at least once
await channel.consume(queue, (msg) => {
  if (!msg) return;
  const event = JSON.parse(msg.content.toString('utf8')) as BridgeEvent;
  if (!seen.has(event.id)) {
    seen.add(event.id);
    console.log(msg.fields.routingKey, event.type, event.subject, event.patientuuid);
  }
  channel.ack(msg);
});
