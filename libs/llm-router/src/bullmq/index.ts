// @llm-router/nestjs/bullmq: the work queue on BullMQ. Only this entry point
// loads bullmq (an optional peer dependency, with ioredis): an app that never
// imports it never needs them installed.
export { BullMqJobQueue, type BullMqJobQueueOptions } from './bullmq-job-queue.js';
