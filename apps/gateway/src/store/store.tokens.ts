/** Injection token of the GatewayStore. */
export const GATEWAY_STORE = Symbol('GATEWAY_STORE');
