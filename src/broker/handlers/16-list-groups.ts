/**
 * ListGroups (api key 16), versions 0..5. Lists the groups this broker coordinates (all of them: a single broker
 * coordinates every group), with their protocol type; v4+ (KIP-518) may filter by state (case-insensitive) and
 * answer each group's state; v5+ (KIP-848) may filter by group type and answer it (these groups are all
 * 'classic'). COORDINATOR_LOAD_IN_PROGRESS while `__consumer_offsets` is being loaded.
 */
import type { ListGroupsRequest, ListGroupsResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function listGroupsHandler(broker: BrokerContext): Handler<ListGroupsRequest, ListGroupsResponse> {
  return {
    apiKey: 16,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const result = await broker.groups.listGroups({
        statesFilter: v >= 4 ? request.statesFilter : [],
        typesFilter: v >= 5 ? request.typesFilter : [],
      });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        groups: result.groups.map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          groupState: v >= 4 ? g.groupState : '',
          groupType: v >= 5 ? g.groupType : '',
        })),
      };
    },
  };
}
