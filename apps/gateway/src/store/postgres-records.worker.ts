/**
 * The PostgreSQL record writer's thread (see record-thread.ts): a pool of its
 * own (two connections: the writer's batches and a recovery's may overlap),
 * one transaction per batch. Parsing the posted lines, building the multi-row
 * INSERTs, serializing their parameters and parsing the protocol's answers
 * run here, beside the event loop.
 */
import { workerData } from 'node:worker_threads';
import { postgresPool, insertRecordValues } from './postgres-records.js';
import { serveRecordThread } from './record-thread-port.js';

/** Connections of the thread's pool. */
const CONNECTIONS = 2;

const { url, schema } = workerData as { url: string; schema: string };
const pool = postgresPool({ url, schema, max: CONNECTIONS });
serveRecordThread({
  insert: (rows) => insertRecordValues(pool, rows),
  ping: async () => {
    await pool.query('SELECT 1');
  },
  close: () => pool.end(),
});
