import type { OnApplicationShutdown } from '@nestjs/common';

/** What the module created itself and so closes at shutdown; never a port the app gave. */
export class ModuleOwnedPorts implements OnApplicationShutdown {
  private readonly owned: Array<{ close(): unknown }> = [];

  own<T extends { close(): unknown }>(port: T): T {
    this.owned.push(port);
    return port;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.owned.splice(0).map(async (port) => port.close()));
  }
}
