// The lab's periodic tasks (Celery Beat in Django): `summary` every 10 s, `test` at 15:05, and the task
// added from the admin panel, `AdminPanel`. Loaded by web, worker and beat through seler.config.json.
import { defineTask } from 'seler/tasks';

defineTask('summary', { description: 'The lab’s summary: logs how many tasks it has seen.' }, (_args, _kwargs, ctx) => {
  ctx.log.info('summary: the periodic task ran');
  return { ranAt: new Date().toISOString() };
});

defineTask('test', { description: 'The lab’s test task, scheduled by a crontab at 15:05.' }, ([message = 'test'], _kwargs, ctx) => {
  ctx.log.info({ message }, 'test: the crontab task ran');
  return message;
});

defineTask('AdminPanel', { description: 'The task the lab scheduled from the admin panel.' }, (_args, _kwargs, ctx) => {
  ctx.log.info('AdminPanel: scheduled from the admin ran');
  return 'ok';
});
