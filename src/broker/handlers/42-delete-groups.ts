/**
 * DeleteGroups (api key 42), versions 0..2. Deletes Empty groups together with their committed offsets (tombstones
 * in `__consumer_offsets`); a group with members answers NON_EMPTY_GROUP, one that does not exist
 * GROUP_ID_NOT_FOUND. A group named twice is answered once.
 */
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function deleteGroupsHandler(broker: BrokerContext): Handler<DeleteGroupsRequest, DeleteGroupsResponse> {
  return {
    apiKey: 42,
    minVersion: 0,
    maxVersion: 2,
    async handle(_ctx, request) {
      const results = await broker.groups.deleteGroups(request.groupsNames);
      return { throttleTimeMs: 0, results: results.map((r) => ({ groupId: r.groupId, errorCode: r.errorCode })) };
    },
  };
}
