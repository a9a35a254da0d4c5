// The lab's "permissions and groups" idea done by Redis itself: an ACL user that may only read lab keys.
import { randomBytes, randomUUID } from 'node:crypto';
import { errorMessage } from '../../platform/errors.js';
import { LabRefusal, type Exercise } from '../types.js';

export const acl: Exercise = {
  name: 'acl',
  rows: 'R14',
  summary: "the lab's permissions and groups as a Redis ACL user that may only read lab:* keys",
  async run(ctx) {
    const c = ctx.main;
    const user = `lab-reader-${randomUUID().slice(0, 8)}`;
    const password = randomBytes(16).toString('hex');
    const pattern = `${ctx.settings.prefix}:*`;
    const rules = ['on', `>${password}`, 'resetkeys', `~${pattern}`, 'resetchannels', '-@all', '+@read'];
    const shownRules = rules.map((rule) => (rule.startsWith('>') ? '>••••••' : rule)).join(' ');

    try {
      await c.run(`ACL SETUSER ${user} ${shownRules}`, () => c.redis.call('ACL', 'SETUSER', user, ...rules));
    } catch (error) {
      throw new LabRefusal(
        `This Redis refuses ACL SETUSER (${errorMessage(error)}), which the exercise needs to create its read-only user; ` +
          'managed services usually manage users in their own console. Nothing was changed.',
      );
    }
    ctx.note(`-@all +@read: only read commands; ~${pattern}: only keys matching ${pattern}; resetchannels: no pub/sub`);

    try {
      const doc = ctx.key('doc');
      const foreign = `not-${ctx.settings.prefix}:acl-probe`;
      await c.send('SET', doc, 'readable by the lab reader');

      const reader = await ctx.connect('reader');
      await reader.run(`AUTH ${user} ••••••`, () => reader.redis.call('AUTH', user, password));
      const read = await reader.attempt('GET', doc);
      const write = await reader.attempt('SET', doc, 'changed');
      ctx.note('refused: SET is not a read command');
      const foreignRead = await reader.attempt('GET', foreign);
      ctx.note(`refused: ${foreign} does not match ${pattern} (it was never read nor created)`);
      const unchanged = await c.send('GET', doc);
      reader.redis.disconnect();

      return {
        user,
        readAllowed: read.error === undefined,
        readReply: read.reply,
        writeRefused: write.error?.message ?? null,
        foreignRefused: foreignRead.error?.message ?? null,
        docAfter: unchanged,
      };
    } finally {
      const deleted = await c.send('ACL', 'DELUSER', user);
      ctx.note(`user ${user} deleted (${String(deleted)}); Redis also closed its connections`);
    }
  },
};
