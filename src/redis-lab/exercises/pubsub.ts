// R11: publish/subscribe delivers a message to whoever listens at that moment, and to no one else.
import type { Exercise } from '../types.js';
import { Inbox, redisCliCommand, untilAborted } from './support.js';

export const pubsub: Exercise = {
  name: 'pubsub',
  rows: 'R11',
  summary: 'a subscriber (with the subscribe confirmation) and a publisher',
  listens: true,
  async run(ctx) {
    const channel = ctx.key('news');
    const publisher = await ctx.connect('publisher');
    const subscriber = await ctx.connect('subscriber');
    const inbox = new Inbox<[string, string]>();
    subscriber.redis.on('message', (from: string, message: string) => inbox.push([from, message]));

    const unheard = await publisher.send('PUBLISH', channel, 'anyone there?');
    ctx.note('PUBLISH answers how many subscribers got the message: 0, so it is gone (pub/sub keeps nothing)');

    const count = await subscriber.run(`SUBSCRIBE ${channel}`, () => subscriber.redis.subscribe(channel), (n) => ['subscribe', channel, n]);
    ctx.note("the confirmation the lab printed as {'type': 'subscribe', 'channel': b'…', 'data': 1}: 1 channel subscribed");

    const sent = ['hello', 'second message', 'stop'];
    const received: string[] = [];
    const receivers: unknown[] = [];
    for (const text of sent) {
      receivers.push(await publisher.send('PUBLISH', channel, text));
      const [from, message] = await inbox.next(ctx.settings.timeoutMs, `the message "${text}"`, ctx.signal);
      subscriber.received(['message', from, message]);
      received.push(message);
    }
    ctx.note('the subscriber loop of the lab stopped on "stop"; this one stops the same way');

    if (ctx.settings.listen) {
      ctx.note(`listening on ${channel}: from another terminal  ${redisCliCommand(ctx.settings.redisUrl, ctx.db)} PUBLISH ${channel} hi   (Ctrl-C stops)`);
      subscriber.redis.removeAllListeners('message');
      subscriber.redis.on('message', (from: string, message: string) => subscriber.received(['message', from, message]));
      await untilAborted(ctx.signal);
    }
    await subscriber.run(`UNSUBSCRIBE ${channel}`, () => subscriber.redis.unsubscribe(channel), (n) => ['unsubscribe', channel, n]);
    return { unheardReceivers: unheard, subscribedCount: count, sent, received, receivers };
  },
};
