/**
 * `samsa topic`: create, list, describe, delete topics, change their configs, add partitions and move them to other
 * brokers (reassign, reassignments), through the Admin client. Tables for people, `--output json` for scripts. Commands naming several topics do what they can: each
 * topic that fails is one line on stderr (exit status 1) and the others' results are printed as usual.
 *
 * The facts `topic describe` prints (partitions with leader, replicas and ISR, the topic id, the configs set on the
 * topic) come from `describeTopicReports`, which `samsa topics --describe` (kafka-tools.ts) prints Kafka's way.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Admin, ConfigEntry } from '../../client/admin/index.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import {
  collect,
  intArg,
  parseKeyValues,
  printLines,
  reportFailures,
  type Settled,
  settled,
  TOPIC_HINTS,
  unwrap,
  withAdmin,
} from '../support/admin.js';
import { addCommonOptions, type CommonOptions, runCommand } from '../support/connection-options.js';
import { CommandError, UsageError } from '../support/errors.js';
import { print, renderTable } from '../support/output.js';

export interface PartitionReport {
  partition: number;
  /** null: no leader. */
  leader: number | null;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicReport {
  name: string;
  topicId: string;
  internal: boolean;
  partitionCount: number;
  /** The replica count of the first partition, as kafka-topics reports it. */
  replicationFactor: number;
  /** The configs that differ from the defaults (set on the topic or on the broker), by name. */
  configs: Record<string, string | null>;
  /** The topic's min.insync.replicas (for the ISR reports of `samsa topics --describe`). */
  minInsyncReplicas: number | null;
  partitions: PartitionReport[];
}

/** Partitions, id and non-default configs of each topic, in the order asked; a topic that fails is a failure. */
export async function describeTopicReports(admin: Admin, names: readonly string[]): Promise<Settled<TopicReport>> {
  const [described, configs] = await Promise.all([
    settled(admin.describeTopics(names)),
    settled(admin.describeConfigs(names.map((name) => ({ type: 'topic' as const, name })))),
  ]);
  const failures = [...described.failures];
  const failed = new Set(failures.map((f) => f.item));
  const configsOf = new Map(configs.results.map((r) => [r.name, r.entries]));
  const results: TopicReport[] = [];
  for (const t of described.results) {
    const entries = configsOf.get(t.name);
    if (entries === undefined) {
      const f = configs.failures.find((x) => x.item === `topic:${t.name}` || x.item === t.name);
      if (f !== undefined && !failed.has(t.name)) failures.push({ item: t.name, error: f.error });
      continue;
    }
    results.push(topicReport(t, entries));
  }
  const order = new Map(names.map((n, i) => [n, i]));
  failures.sort((a, b) => (order.get(a.item) ?? 0) - (order.get(b.item) ?? 0));
  return { results, failures };
}

function topicReport(
  t: Awaited<ReturnType<Admin['describeTopics']>>[number],
  entries: readonly ConfigEntry[],
): TopicReport {
  const configs: Record<string, string | null> = {};
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) if (!e.isDefault) configs[e.name] = e.value;
  const minIsr = entries.find((e) => e.name === 'min.insync.replicas')?.value;
  return {
    name: t.name,
    topicId: t.topicId,
    internal: t.internal,
    partitionCount: t.partitions.length,
    replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    configs,
    minInsyncReplicas: minIsr === undefined || minIsr === null ? null : Number(minIsr),
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader < 0 ? null : p.leader,
      replicas: p.replicas,
      isr: p.isr,
      offlineReplicas: p.offlineReplicas,
    })),
  };
}

const ids = (list: readonly number[]): string => list.join(',');

/** Leader, replicas and ISR per partition; offline replicas only when some partition has any. */
function partitionTable(t: TopicReport): string {
  const offline = t.partitions.some((p) => p.offlineReplicas.length > 0);
  return renderTable(
    ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', ...(offline ? ['OFFLINE-REPLICAS'] : [])],
    t.partitions.map((p) => [
      p.partition,
      p.leader,
      ids(p.replicas),
      ids(p.isr),
      ...(offline ? [p.offlineReplicas.length > 0 ? ids(p.offlineReplicas) : null] : []),
    ]),
  );
}

function configsText(configs: Record<string, string | null>): string {
  return Object.entries(configs)
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join(',');
}

interface CreateOptions extends CommonOptions {
  partitions?: number;
  replicationFactor?: number;
  config: string[];
  ifNotExists?: boolean;
}

interface ListOptions extends CommonOptions {
  includeInternal?: boolean;
}

interface DeleteOptions extends CommonOptions {
  ifExists?: boolean;
}

interface AlterConfigOptions extends CommonOptions {
  set: string[];
  delete: string[];
  append: string[];
  subtract: string[];
}

interface DescribeConfigOptions extends CommonOptions {
  all?: boolean;
}

interface AddPartitionsOptions extends CommonOptions {
  total: number;
}

interface ReassignOptions extends CommonOptions {
  replicas?: number[];
  partition: string[];
  cancel?: boolean;
}

/** `--replicas 3,4`: broker ids, in order (the first is the preferred leader). */
function brokerList(value: string): number[] {
  const list = value.split(',').map((x) => x.trim());
  if (list.some((x) => !/^\d+$/.test(x))) throw new InvalidArgumentError('a comma-separated list of broker ids.');
  return list.map(Number);
}

export function registerTopic(program: Command): void {
  const topic = program.command('topic').description('create, list, describe, alter and delete topics');

  addCommonOptions(
    topic
      .command('create <name>')
      .description('create a topic')
      .option('-p, --partitions <n>', "number of partitions (default: the broker's num.partitions)", intArg(1))
      .option(
        '-r, --replication-factor <n>',
        "replicas per partition (default: the broker's default.replication.factor)",
        intArg(1),
      )
      .option('-c, --config <key=value>', 'a topic config, e.g. retention.ms=86400000 (repeatable)', collect, [])
      .option('--if-not-exists', 'succeed when the topic already exists'),
  ).action((name: string, opts: CreateOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const configs = parseKeyValues(opts.config, '--config');
        try {
          const [created] = await admin.createTopics([
            {
              name,
              ...(opts.partitions === undefined ? {} : { numPartitions: opts.partitions }),
              ...(opts.replicationFactor === undefined ? {} : { replicationFactor: opts.replicationFactor }),
              configs,
            },
          ]);
          const c = created!;
          print(
            s.output,
            {
              name,
              created: true,
              topicId: c.topicId,
              partitions: c.numPartitions,
              replicationFactor: c.replicationFactor,
            },
            () => `Created topic ${name}.`,
          );
        } catch (e) {
          const err = unwrap(e);
          if (!(err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
          if (!opts.ifNotExists) {
            throw new CommandError(
              `${err.errorName}: ${err.message} (pass --if-not-exists to accept an existing topic)`,
            );
          }
          print(s.output, { name, created: false }, () => `Topic ${name} already exists.`);
        }
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('list')
      .description('list topics with their partition counts')
      .option('--include-internal', 'also list internal topics such as __consumer_offsets'),
  ).action((opts: ListOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const names = await admin.listTopics({ includeInternal: opts.includeInternal === true });
        const { results, failures } = await settled(admin.describeTopics(names));
        const rows = results.map((t) => ({
          name: t.name,
          topicId: t.topicId,
          partitions: t.partitions.length,
          replicationFactor: t.partitions[0]?.replicas.length ?? 0,
          internal: t.internal,
        }));
        print(s.output, rows, () =>
          renderTable(
            ['TOPIC', 'PARTITIONS', 'REPLICATION-FACTOR', 'TOPIC-ID'],
            rows.map((r) => [r.name, r.partitions, r.replicationFactor, r.topicId]),
          ),
        );
        reportFailures(failures, s, TOPIC_HINTS);
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('describe [names...]')
      .description('partitions (leader, replicas, in-sync replicas), id and config overrides of topics (default: all)')
      .option('--include-internal', 'with no names: also describe internal topics'),
  ).action((names: string[], opts: ListOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const wanted =
          names.length > 0 ? names : await admin.listTopics({ includeInternal: opts.includeInternal === true });
        const { results, failures } = await describeTopicReports(admin, wanted);
        printLines(s.output, results, () =>
          results.length === 0
            ? []
            : [
                results
                  .map((t) =>
                    [
                      `Topic: ${t.name}  TopicId: ${t.topicId}  PartitionCount: ${t.partitionCount}  ` +
                        `ReplicationFactor: ${t.replicationFactor}  Configs: ${configsText(t.configs) || '-'}`,
                      partitionTable(t),
                    ].join('\n'),
                  )
                  .join('\n\n'),
              ],
        );
        reportFailures(failures, s, TOPIC_HINTS);
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('delete <names...>')
      .description('delete topics and all their records')
      .option('--if-exists', 'succeed for topics that do not exist'),
  ).action((names: string[], opts: DeleteOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const { results, failures } = await settled(admin.deleteTopics(names));
        const missing = (f: (typeof failures)[number]) =>
          f.error instanceof KafkaError && f.error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        const absent = opts.ifExists ? failures.filter(missing).map((f) => f.item) : [];
        const deleted = results.map((r) => r.name);
        printLines(s.output, { deleted, absent }, () => [
          ...deleted.map((n) => `Deleted topic ${n}.`),
          ...absent.map((n) => `Topic ${n} does not exist.`),
        ]);
        reportFailures(
          failures.filter((f) => !absent.includes(f.item)),
          s,
          { ...TOPIC_HINTS, [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'pass --if-exists to accept a missing topic' },
        );
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('alter-config <name>')
      .description("change a topic's configs; the others stay as they are")
      .option('--set <key=value>', 'set a config (repeatable)', collect, [])
      .option('--delete <key>', 'remove a config set on the topic, back to the default (repeatable)', collect, [])
      .option('--append <key=value>', 'add a value to a list config (repeatable)', collect, [])
      .option('--subtract <key=value>', 'remove a value from a list config (repeatable)', collect, []),
  ).action((name: string, opts: AlterConfigOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const set = parseKeyValues(opts.set, '--set');
        const append = parseKeyValues(opts.append, '--append');
        const subtract = parseKeyValues(opts.subtract, '--subtract');
        const ops = [
          ...Object.entries(set).map(([k, value]) => ({ name: k, op: 'set' as const, value })),
          ...opts.delete.map((k) => ({ name: k, op: 'delete' as const })),
          ...Object.entries(append).map(([k, value]) => ({ name: k, op: 'append' as const, value })),
          ...Object.entries(subtract).map(([k, value]) => ({ name: k, op: 'subtract' as const, value })),
        ];
        if (ops.length === 0)
          throw new UsageError('alter-config needs at least one --set, --delete, --append or --subtract');
        await existingTopic(admin, name);
        try {
          await admin.alterConfigs([{ type: 'topic', name, ops }]);
        } catch (e) {
          throw unwrap(e);
        }
        print(s.output, { topic: name, set, deleted: opts.delete, append, subtract }, () =>
          [
            ...Object.entries(set).map(([k, v]) => `Set ${k}=${v} on topic ${name}.`),
            ...opts.delete.map((k) => `Removed ${k} from topic ${name}.`),
            ...Object.entries(append).map(([k, v]) => `Appended ${v} to ${k} of topic ${name}.`),
            ...Object.entries(subtract).map(([k, v]) => `Removed ${v} from ${k} of topic ${name}.`),
          ].join('\n'),
        );
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('describe-config <name>')
      .description("a topic's configs: those set on it and on the broker (--all: every config with its default)")
      .option('--all', 'also list the configs at their defaults'),
  ).action((name: string, opts: DescribeConfigOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        await existingTopic(admin, name);
        let entries: ConfigEntry[];
        try {
          entries = (await admin.describeConfigs([{ type: 'topic', name }]))[0]!.entries;
        } catch (e) {
          throw unwrap(e);
        }
        const shown = entries
          .filter((e) => opts.all || !e.isDefault)
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((e) => ({
            name: e.name,
            value: e.value,
            source: e.source,
            readOnly: e.readOnly,
            sensitive: e.sensitive,
          }));
        print(s.output, { topic: name, configs: shown }, () =>
          renderTable(
            ['CONFIG', 'VALUE', 'SOURCE'],
            shown.map((e) => [e.name, e.sensitive ? '(sensitive)' : e.value, e.source]),
          ),
        );
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('add-partitions <name>')
      .description('grow a topic to a number of partitions (keyed records may then land elsewhere)')
      .requiredOption('--total <n>', 'the partition count afterwards', intArg(1)),
  ).action((name: string, opts: AddPartitionsOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        try {
          await admin.createPartitions([{ topic: name, totalCount: opts.total }]);
        } catch (e) {
          const err = unwrap(e);
          if (err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw noSuchTopic(name);
          throw err;
        }
        print(
          s.output,
          { topic: name, partitions: opts.total },
          () => `Topic ${name} now has ${opts.total} partitions.`,
        );
      }),
    ),
  );

  registerReassign(topic);
}

function registerReassign(topic: Command): void {
  addCommonOptions(
    topic
      .command('reassign <name>')
      .description(
        'move partitions to other brokers while they keep serving (KIP-455); `samsa topic reassignments` follows it',
      )
      .option('--replicas <ids>', 'the target brokers, e.g. 3,4 (the first is the preferred leader)', brokerList)
      .option('--partition <n>', 'a partition to move (repeatable; default: every partition)', collect, [])
      .option('--cancel', 'cancel the reassignment in progress instead: back to the original replicas'),
  ).action((name: string, opts: ReassignOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        if ((opts.replicas === undefined) === (opts.cancel !== true)) {
          throw new UsageError('reassign needs either --replicas or --cancel');
        }
        let partitions = opts.partition.map((p) => intArg(0)(p));
        if (partitions.length === 0) {
          await existingTopic(admin, name);
          const [t] = await admin.describeTopics([name]);
          partitions = t!.partitions.map((p) => p.partition);
        }
        const replicas = opts.cancel === true ? null : opts.replicas!;
        const { results, failures } = await settled(
          admin.alterPartitionReassignments(partitions.map((partition) => ({ topic: name, partition, replicas }))),
        );
        printLines(
          s.output,
          results.map((r) => ({ topic: r.topic, partition: r.partition, replicas })),
          () =>
            results.map((r) =>
              replicas === null
                ? `Cancelled the reassignment of ${r.topic}-${r.partition}.`
                : `Reassigning ${r.topic}-${r.partition} to ${ids(replicas)}.`,
            ),
        );
        reportFailures(failures, s, {
          ...TOPIC_HINTS,
          [ErrorCode.NO_REASSIGNMENT_IN_PROGRESS]: '`samsa topic reassignments` lists those in progress',
        });
      }),
    ),
  );

  addCommonOptions(
    topic
      .command('reassignments [names...]')
      .description('the partition reassignments in progress (of these topics; default: all)'),
  ).action((names: string[], opts: CommonOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        let filter: { topic: string; partition: number }[] | undefined;
        if (names.length > 0) {
          const described = await settled(admin.describeTopics(names));
          reportFailures(described.failures, s, TOPIC_HINTS);
          filter = described.results.flatMap((t) =>
            t.partitions.map((p) => ({ topic: t.name, partition: p.partition })),
          );
        }
        const list = filter?.length === 0 ? [] : await admin.listPartitionReassignments(filter);
        print(s.output, list, () =>
          renderTable(
            ['TOPIC', 'PARTITION', 'REPLICAS', 'ADDING', 'REMOVING'],
            list.map((r) => [r.topic, r.partition, ids(r.replicas), ids(r.addingReplicas), ids(r.removingReplicas)]),
          ),
        );
      }),
    ),
  );
}

function noSuchTopic(name: string): CommandError {
  return new CommandError(`Topic '${name}' does not exist (\`samsa topic list\` shows the topics)`);
}

/**
 * Config calls on a topic that does not exist may be answered with a generic error (Kafka answers
 * UNKNOWN_TOPIC_OR_PARTITION, some brokers an empty config list): the topic is checked first for a clear line.
 */
async function existingTopic(admin: Admin, name: string): Promise<void> {
  try {
    await admin.describeTopics([name]);
  } catch (e) {
    const err = unwrap(e);
    if (err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw noSuchTopic(name);
    throw err;
  }
}
