/**
 * InitProducerId (api key 22), versions 0..5 (KIP-98; v3 adds the producer's current id and epoch, KIP-360).
 *
 * Idempotent producers (TransactionalId null): a fresh producer id from the ProducerIdManager with epoch 0, every
 * time, whatever id and epoch a v3+ request carries. Kafka does the same: a non-transactional producer that asks
 * again (after a fatal sequence error, say) starts over as a new producer.
 *
 * Transactional producers are not supported yet. A transactional id gets COORDINATOR_NOT_AVAILABLE, the answer this
 * cluster also gives to FindCoordinator for transaction keys: Kafka says it when no transaction coordinator can be
 * found (e.g. `__transaction_state` cannot be created). It is retriable, so a transactional client waits for its
 * timeout and fails with a coordinator error rather than a misleading authorization failure, and a later broker with
 * a coordinator serves the same client unchanged. An empty transactional id is INVALID_REQUEST, as in Kafka.
 *
 * A failure to claim a block of ids (the block store cannot be written) is UNKNOWN_SERVER_ERROR with a log line.
 */
import { ProducerIdUnavailableError } from '../../coordinator/txn/producer-id-manager.js';
import { ErrorCode, type InitProducerIdRequest, type InitProducerIdResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
}

export default function initProducerIdHandler(
  broker: BrokerContext,
): Handler<InitProducerIdRequest, InitProducerIdResponse> {
  return {
    apiKey: 22,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request) {
      if (request.transactionalId !== null) {
        if (request.transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
        ctx.logger.debug(
          { transactionalId: request.transactionalId },
          'InitProducerId for a transactional id: no transaction coordinator',
        );
        return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      try {
        const producerId = await broker.producerIds.generate();
        ctx.logger.debug({ producerId: String(producerId), version: ctx.apiVersion }, 'producer id allocated');
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
      } catch (err) {
        ctx.logger.error(
          { err: (err as Error).message, exhausted: err instanceof ProducerIdUnavailableError },
          'cannot allocate a producer id',
        );
        return failed(ErrorCode.UNKNOWN_SERVER_ERROR);
      }
    },
  };
}
