/**
 * ListOffsets (api key 2), versions 1..10. Per partition led here: EARLIEST (-2) is the log start offset, LATEST
 * (-1) the high watermark (the last stable offset for READ_COMMITTED), MAX_TIMESTAMP (-3, v7+, KIP-734) the record
 * with the largest timestamp, EARLIEST_LOCAL (-4, v8+) the log start (there is no tiered storage), LATEST_TIERED
 * (-5, v9+) none; any other timestamp finds the first offset whose timestamp is at or after it (KIP-79), below the
 * high watermark for consumers. Consumers (replica id -1) see only what is below the high watermark; a replica id
 * >= 0 (a follower or debugging tool) sees up to the log end. Stale client leader epochs are fenced (KIP-320).
 */
import {
  ErrorCode,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/index.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from '../../storage/types.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf, leaderPartition } from './support.js';

const EARLIEST_LOCAL_TIMESTAMP = -4n;
const LATEST_TIERED_TIMESTAMP = -5n;
const READ_COMMITTED = 1;

type PartitionResponse = ListOffsetsResponseListOffsetsPartitionResponse;

function answerAt(partitionIndex: number, errorCode: number, offset = -1n, timestamp = -1n, leaderEpoch = -1) {
  return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp, offset, leaderEpoch };
}

export default function listOffsetsHandler(broker: BrokerContext): Handler<ListOffsetsRequest, ListOffsetsResponse> {
  return {
    apiKey: 2,
    minVersion: 1,
    maxVersion: 10,
    handle(ctx, request) {
      const version = ctx.apiVersion;
      // Leader epochs exist in the response from v4 (KIP-320); earlier versions must carry the default.
      const answer = (index: number, errorCode: number, offset = -1n, timestamp = -1n, leaderEpoch = -1) =>
        answerAt(index, errorCode, offset, timestamp, version >= 4 ? leaderEpoch : -1);
      const topics = request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): PartitionResponse => {
          const found = leaderPartition(broker, t.name, p.partitionIndex, p.currentLeaderEpoch);
          if (found.partition === null) return answer(p.partitionIndex, found.errorCode);
          const partition = found.partition;
          try {
            const log = partition.log;
            const epoch = partition.leaderEpoch;
            const consumer = request.replicaId < 0;
            const limit = !consumer
              ? log.logEndOffset
              : request.isolationLevel === READ_COMMITTED
                ? log.lastStableOffset
                : log.highWatermark;
            const ts = p.timestamp;
            if (ts === EARLIEST_TIMESTAMP || (ts === EARLIEST_LOCAL_TIMESTAMP && version >= 8)) {
              return answer(p.partitionIndex, ErrorCode.NONE, log.logStartOffset, -1n, epoch);
            }
            if (ts === LATEST_TIMESTAMP) return answer(p.partitionIndex, ErrorCode.NONE, limit, -1n, epoch);
            if (ts === LATEST_TIERED_TIMESTAMP && version >= 9) return answer(p.partitionIndex, ErrorCode.NONE);
            if (ts === MAX_TIMESTAMP && version >= 7) {
              const found = log.offsetForTimestamp(MAX_TIMESTAMP);
              if (found === null || found.offset >= limit) return answer(p.partitionIndex, ErrorCode.NONE);
              return answer(p.partitionIndex, ErrorCode.NONE, found.offset, found.timestamp, found.leaderEpoch);
            }
            if (ts < 0n) return answer(p.partitionIndex, ErrorCode.INVALID_REQUEST);
            const found = log.offsetForTimestamp(ts);
            if (found === null || found.offset >= limit) return answer(p.partitionIndex, ErrorCode.NONE);
            return answer(p.partitionIndex, ErrorCode.NONE, found.offset, found.timestamp, found.leaderEpoch);
          } catch (err) {
            return answer(p.partitionIndex, errorCodeOf(err));
          }
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
