/**
 * The gateway's own entry point, for profiling only: `node --cpu-prof` writes
 * its profile when the process exits normally, and the gateway's shutdown hooks
 * end it by re-raising the signal. SIGUSR2 here exits normally instead.
 */
process.on('SIGUSR2', () => process.exit(0));
await import('../../apps/gateway/src/main.js');
