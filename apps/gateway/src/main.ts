import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startSimulator } from '#simulator';
import { gatewayConfigFromEnv } from './config/gateway.config.js';
import { createGateway } from './create-gateway.js';

const logger = new Logger('Gateway');

async function main(): Promise<void> {
  const config = gatewayConfigFromEnv();
  if (config.embeddedSimulator) {
    const sim = await startSimulator({ port: config.simulatorPort });
    logger.log(`simulated provider on ${sim.url} (fault injection: POST ${sim.url}/_sim/faults)`);
    process.once('beforeExit', () => void sim.close());
  }
  const app = await createGateway({ router: { policyFile: config.policyFile }, bodyLimitBytes: config.bodyLimitBytes });
  await app.listen(config.port, config.host);
  logger.log(`gateway on http://${config.host}:${config.port} (policy: ${config.policyFile})`);
}

main().catch((err: unknown) => {
  // A bad policy stops start-up with the offending paths; nothing else is worth a stack.
  console.error(err instanceof Error && err.name === 'PolicyValidationError' ? err.message : err);
  process.exit(1);
});
