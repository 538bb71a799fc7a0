/**
 * The PostgreSQL record writer's thread (see record-thread.ts): a pool of its
 * own (two connections: the writer's batches and a recovery's may overlap),
 * one statement per batch, its lines one JSON parameter: the driver's work
 * (the query, its parameter's bytes, the protocol's answers) runs here,
 * beside the event loop.
 */
import { workerData } from 'node:worker_threads';
import { insertRecordLines, postgresPool } from './postgres-records.js';
import { serveRecordThread } from './record-thread-port.js';

/** Connections of the thread's pool. */
const CONNECTIONS = 2;

const { url, schema } = workerData as { url: string; schema: string };
const pool = postgresPool({ url, schema, max: CONNECTIONS });
serveRecordThread({
  insert: (lines) => insertRecordLines(pool, lines),
  ping: async () => {
    await pool.query('SELECT 1');
  },
  close: () => pool.end(),
});
