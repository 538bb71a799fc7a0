import type { DiscoveryService, MetadataScanner } from '@nestjs/core';

/** A controller class or one of its handlers, with a name for messages (`Controller` or `Controller.method`). */
export interface ControllerTarget {
  readonly target: Function;
  readonly where: string;
}

/** Every controller class of the app and each of its handlers: where the routing decorators can sit. */
export function controllerTargets(discovery: DiscoveryService, scanner: MetadataScanner): ControllerTarget[] {
  const targets: ControllerTarget[] = [];
  for (const { metatype, instance } of discovery.getControllers()) {
    if (!metatype || !instance) continue;
    targets.push({ target: metatype, where: metatype.name });
    const prototype = Object.getPrototypeOf(instance);
    for (const method of scanner.getAllMethodNames(prototype)) {
      targets.push({ target: prototype[method], where: `${metatype.name}.${method}` });
    }
  }
  return targets;
}
