// The monitor: workers, queues, tasks, charts (Flower and Bull Board), live through SSE.
import type { Section } from '../../nav.js';
import './monitor.css';
import { dashboardRoute } from './dashboard.js';
import { queueJobsRoute } from './queue-jobs.js';
import { queuesRoute } from './queues.js';
import { taskDetailRoute } from './task-detail.js';
import { tasksRoute } from './tasks.js';
import { workersRoute } from './workers.js';

export const monitorSection: Section = {
  routes: [dashboardRoute, workersRoute, queuesRoute, queueJobsRoute, tasksRoute, taskDetailRoute],
  nav: [
    {
      title: 'Monitor',
      items: [
        { label: 'Dashboard', href: '/admin/monitor/', permission: 'view_task', testId: 'nav-monitor' },
        { label: 'Workers', href: '/admin/workers/', permission: 'view_task', testId: 'nav-workers' },
        { label: 'Queues', href: '/admin/queues/', permission: 'view_task', testId: 'nav-queues' },
        { label: 'Tasks', href: '/admin/tasks/', permission: 'view_task', testId: 'nav-tasks' },
      ],
    },
  ],
};
