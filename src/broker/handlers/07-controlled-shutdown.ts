/**
 * ControlledShutdown (api key 7), versions 0..3, cluster mode: a stopping broker asks the controller to move
 * leadership away from it and take it out of the ISRs first, so that clients move to the new leaders before it
 * goes. Served by the controller (NOT_CONTROLLER elsewhere, and in single-node mode, which has nothing to move);
 * the answer lists the partitions it still leads (those it is the only live in-sync replica of), which the broker
 * may retry for (controlled.shutdown.max.retries) before it stops anyway.
 */
import { type ControlledShutdownRequest, type ControlledShutdownResponse, ErrorCode } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf } from './support.js';

export default function controlledShutdownHandler(
  broker: BrokerContext,
): Handler<ControlledShutdownRequest, ControlledShutdownResponse> {
  return {
    apiKey: 7,
    minVersion: 0,
    maxVersion: 3,
    async handle(ctx, request) {
      const control = broker.clusterControl;
      if (control === null || !control.isController()) {
        return { errorCode: ErrorCode.NOT_CONTROLLER, remainingPartitions: [] };
      }
      try {
        const remaining = await control.controlledShutdown(request.brokerId);
        return {
          errorCode: ErrorCode.NONE,
          remainingPartitions: remaining.map((r) => ({ topicName: r.topic, partitionIndex: r.partition })),
        };
      } catch (err) {
        ctx.logger.warn({ brokerId: request.brokerId, err: (err as Error).message }, 'controlled shutdown failed');
        return { errorCode: errorCodeOf(err), remainingPartitions: [] };
      }
    },
  };
}
