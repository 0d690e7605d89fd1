/**
 * `samsa cluster info`: the cluster id, the controller, every broker with its address and rack, and how many topics
 * and partitions there are, from one Metadata request to any bootstrap broker.
 */
import type { Command } from 'commander';
import { Cluster } from '../../client/network/cluster.js';
import { addCommonOptions, type CommonOptions, runCommand } from '../support/connection-options.js';
import { print, renderTable } from '../support/output.js';

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('inspect the cluster');
  addCommonOptions(
    cluster.command('info').description('cluster id, controller, brokers, topic and partition counts'),
  ).action((opts: CommonOptions) =>
    runCommand(opts, async (s) => {
      const c = new Cluster({
        bootstrapServers: s.bootstrapServers,
        clientId: s.clientId,
        requestTimeoutMs: s.requestTimeoutMs,
        reconnectBackoffMs: 0,
      });
      try {
        const md = await c.refresh({ allTopics: true });
        const brokers = [...md.brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
        const topics = [...md.topics.values()];
        const info = {
          clusterId: md.clusterId,
          controllerId: md.controllerId,
          brokers: brokers.map((b) => ({ ...b, controller: b.nodeId === md.controllerId })),
          topics: topics.filter((t) => !t.internal).length,
          internalTopics: topics.filter((t) => t.internal).length,
          partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
        };
        print(s.output, info, () =>
          [
            `Cluster id: ${info.clusterId ?? '-'}`,
            `Controller: ${info.controllerId}`,
            `Topics: ${info.topics} (+${info.internalTopics} internal), partitions: ${info.partitions}`,
            '',
            renderTable(
              ['BROKER', 'HOST', 'PORT', 'RACK', 'CONTROLLER'],
              info.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack, b.controller ? 'yes' : '']),
            ),
          ].join('\n'),
        );
      } finally {
        await c.close();
      }
    }),
  );
}
