/**
 * Kafka's own tools, for hands that type them from habit: `samsa topics` (also `samsa kafka-topics`) takes
 * kafka-topics.sh's flags and `samsa consumer-groups` (also `samsa kafka-consumer-groups`) those of
 * kafka-consumer-groups.sh, and both print what those tools print ("Created topic x.", the tab-separated
 * `--describe` lines, the GROUP TOPIC PARTITION ... columns). They run the same Admin calls as `samsa topic` and
 * `samsa group` (topic.ts, group.ts); only the flags and the text differ.
 *
 * Where they differ from Kafka's tools, on purpose:
 * - errors go to stderr and set a non-zero exit status (Kafka's tools print some on stdout and exit 0); warnings
 *   (the '.'/'_' topic name collision, the missing --execute) go to stderr as well, so stdout is only the result;
 * - usage errors exit with 2, an unreachable cluster with 3 (see exit-codes.ts), and `--bootstrap-server` defaults
 *   to SAMSA_BOOTSTRAP_SERVER or localhost:9092;
 * - `topics --alter` also takes `--config k=v` and `--delete-config k` (Kafka 4 moved those to kafka-configs.sh);
 * - `--output json` prints the same documents as `samsa topic` and `samsa group`.
 */
import type { Command } from 'commander';
import type { Admin, NewTopic, ResetOffset } from '../../client/admin/index.js';
import { KafkaConnectionError, KafkaTimeoutError } from '../../client/errors.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { collect, intArg, parseKeyValues, parseTopicPartitions, settled, unwrap, withAdmin } from '../support/admin.js';
import {
  addCommonOptions,
  type ClientSettings,
  type CommonOptions,
  clientSettings,
} from '../support/connection-options.js';
import { describeFailure, UsageError } from '../support/errors.js';
import { ExitCode } from '../support/exit-codes.js';
import { print, toJson } from '../support/output.js';
import {
  addResetOptions,
  deleteOffsets,
  type GroupOffsets,
  groupMembers,
  groupOffsets,
  groupState,
  OFFSET_HEADERS,
  parseStates,
  type ResetOptionValues,
  resetOffsets,
  resetScope,
  resetTarget,
  stateNote,
} from './group.js';
import { describeTopicReports, type TopicReport } from './topic.js';

/** A failure already worded as Kafka's tool words it: printed as is (no "samsa:" prefix). */
class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILED,
  ) {
    super(message);
  }
}

/**
 * Runs a tool body: Kafka errors become the tool's error line (`prefix` + the broker's message), usage errors and
 * unreachable brokers the usual "samsa: ..." line.
 */
async function runTool(opts: CommonOptions, prefix: string, body: (s: ClientSettings) => Promise<void>): Promise<void> {
  let settings: ClientSettings | undefined;
  try {
    settings = clientSettings(opts);
    await body(settings);
  } catch (e) {
    const err = unwrap(e);
    if (err instanceof ToolError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // Client errors (no broker answers, a timeout) are not KafkaErrors: they get the usual line below.
    if (err instanceof KafkaError) {
      process.stderr.write(`${prefix}${err.message}\n`);
      process.exitCode = ExitCode.FAILED;
      return;
    }
    const { line, exitCode } = describeFailure(err, settings?.bootstrapServers ?? ['localhost:9092']);
    process.stderr.write(`samsa: ${line}\n`);
    process.exitCode = exitCode;
  }
}

const out = (text: string): void => {
  process.stdout.write(text);
};

/** Java's printf columns as Kafka's tools use them: each value padded to its width, one space between. */
function columns(widths: readonly number[], cells: readonly string[]): string {
  return cells
    .map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c))
    .join(' ')
    .trimEnd();
}

const widest = (min: number, values: readonly string[]): number => Math.max(min, ...values.map((v) => v.length));
const dash = (v: string | number | bigint | null | undefined): string =>
  v === null || v === undefined ? '-' : String(v);

/** Which of several options are present, by their flag names. */
function present(opts: Record<string, unknown>, names: Record<string, string>): string[] {
  return Object.entries(names)
    .filter(([key]) => opts[key] !== undefined && opts[key] !== false)
    .map(([, flag]) => flag);
}

// ---- kafka-topics ---------------------------------------------------------------------------------------------

interface TopicsOptions extends CommonOptions {
  create?: boolean;
  list?: boolean;
  describe?: boolean;
  alter?: boolean;
  delete?: boolean;
  topic?: string;
  partitions?: number;
  replicationFactor?: number;
  replicaAssignment?: string;
  config: string[];
  deleteConfig: string[];
  ifExists?: boolean;
  ifNotExists?: boolean;
  excludeInternal?: boolean;
  topicsWithOverrides?: boolean;
  underReplicatedPartitions?: boolean;
  unavailablePartitions?: boolean;
  underMinIsrPartitions?: boolean;
  atMinIsrPartitions?: boolean;
}

const TOPIC_ACTIONS = { create: 'create', list: 'list', describe: 'describe', alter: 'alter', delete: 'delete' };

/** Kafka's checks of which options go with which action (its wording). */
function checkTopicsArgs(o: TopicsOptions): string {
  const actions = present(o as unknown as Record<string, unknown>, TOPIC_ACTIONS);
  if (actions.length !== 1) {
    throw new UsageError('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
  }
  const action = actions[0]!;
  if (action !== 'list' && action !== 'describe' && o.topic === undefined) {
    throw new UsageError('Missing required argument "[topic]"');
  }
  const allowed: [keyof TopicsOptions, string, string[]][] = [
    ['partitions', 'partitions', ['alter', 'create']],
    ['replicationFactor', 'replication-factor', ['create']],
    ['replicaAssignment', 'replica-assignment', ['alter', 'create']],
    ['ifExists', 'if-exists', ['alter', 'delete', 'describe']],
    ['ifNotExists', 'if-not-exists', ['create']],
    ['excludeInternal', 'exclude-internal', ['list', 'describe']],
    ['topicsWithOverrides', 'topics-with-overrides', ['describe']],
    ['underReplicatedPartitions', 'under-replicated-partitions', ['describe']],
    ['unavailablePartitions', 'unavailable-partitions', ['describe']],
    ['underMinIsrPartitions', 'under-min-isr-partitions', ['describe']],
    ['atMinIsrPartitions', 'at-min-isr-partitions', ['describe']],
  ];
  for (const [key, flag, actionsAllowed] of allowed) {
    if (o[key] !== undefined && o[key] !== false && !actionsAllowed.includes(action)) {
      throw new UsageError(`Option "[${flag}]" can't be used with option "[${action}]"`);
    }
  }
  if (o.config.length > 0 && action !== 'create' && action !== 'alter') {
    throw new UsageError(`Option "[config]" can't be used with option "[${action}]"`);
  }
  if (o.deleteConfig.length > 0 && action !== 'alter') {
    throw new UsageError(`Option "[delete-config]" can't be used with option "[${action}]"`);
  }
  if (action === 'create' && o.replicaAssignment !== undefined) {
    if (o.partitions !== undefined)
      throw new UsageError('Option "[replica-assignment]" can\'t be used with option "[partitions]"');
    if (o.replicationFactor !== undefined) {
      throw new UsageError('Option "[replica-assignment]" can\'t be used with option "[replication-factor]"');
    }
  }
  if (action === 'alter' && o.partitions === undefined && o.config.length === 0 && o.deleteConfig.length === 0) {
    throw new UsageError('Missing required argument "[partitions]" (or --config / --delete-config to change configs)');
  }
  const reports = [o.underReplicatedPartitions, o.unavailablePartitions, o.underMinIsrPartitions, o.atMinIsrPartitions];
  if (o.topicsWithOverrides && reports.some(Boolean)) {
    throw new UsageError('Option "[topics-with-overrides]" can\'t be used with the partition reports');
  }
  return action;
}

/** kafka-topics' --replica-assignment: "1:2,2:3" is two partitions with replicas [1,2] and [2,3]. */
function parseReplicaAssignment(text: string): number[][] {
  const partitions = text.split(',').map((p, i) => {
    const brokers = p.split(':').map((b) => {
      if (!/^\s*\d+\s*$/.test(b)) throw new UsageError(`--replica-assignment: '${b}' is not a broker id`);
      return Number(b);
    });
    const dupes = brokers.filter((b, j) => brokers.indexOf(b) !== j);
    if (dupes.length > 0) {
      throw new UsageError(
        `Partition replica lists may not contain duplicate entries: ${[...new Set(dupes)].join(',')}`,
      );
    }
    return { i, brokers };
  });
  for (const { i, brokers } of partitions) {
    if (brokers.length !== partitions[0]!.brokers.length) {
      throw new UsageError(`Partition ${i} has different replication factor: [${brokers.join(', ')}]`);
    }
  }
  return partitions.map((p) => p.brokers);
}

/** kafka-topics' --topic outside --create: a regular expression, commas meaning "or", matched against whole names. */
function topicFilter(pattern: string): (name: string) => boolean {
  const source = pattern
    .trim()
    .replaceAll(',', '|')
    .replaceAll(' ', '')
    .replace(/^["']+/, '')
    .replace(/["']+$/, '');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch {
    throw new UsageError(`--topic '${pattern}' is not a valid regular expression`);
  }
  return (name) => re.test(name);
}

/** The topics an action applies to: every topic, or those --topic matches; internal ones unless excluded. */
async function selectTopics(admin: Admin, o: TopicsOptions): Promise<string[]> {
  const all = await admin.listTopics({ includeInternal: o.excludeInternal !== true });
  return o.topic === undefined ? all : all.filter(topicFilter(o.topic));
}

function ensureFound(found: readonly string[], o: TopicsOptions): void {
  if (found.length === 0 && o.topic !== undefined && o.topic !== '' && !o.ifExists) {
    throw new ToolError(`Topic '${o.topic}' does not exist as expected`);
  }
}

/** The '.'/'_' warning kafka-topics prints on create (on stderr here, so stdout is only the result). */
function collisionWarning(name: string): void {
  if (name.includes('.') || name.includes('_')) {
    process.stderr.write(
      "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. " +
        'To avoid issues it is best to use either, but not both.\n',
    );
  }
}

async function topicsCreate(admin: Admin, o: TopicsOptions, s: ClientSettings): Promise<void> {
  const name = o.topic!;
  if (o.replicationFactor !== undefined && (o.replicationFactor < 1 || o.replicationFactor > 32767)) {
    throw new UsageError('The replication factor must be between 1 and 32767 inclusive');
  }
  if (o.partitions !== undefined && o.partitions < 1) throw new UsageError('The partitions must be greater than 0');
  const configs = parseConfigs(o.config);
  collisionWarning(name);
  const topic: NewTopic =
    o.replicaAssignment !== undefined
      ? { name, assignments: parseReplicaAssignment(o.replicaAssignment), configs }
      : {
          name,
          ...(o.partitions === undefined ? {} : { numPartitions: o.partitions }),
          ...(o.replicationFactor === undefined ? {} : { replicationFactor: o.replicationFactor }),
          configs,
        };
  try {
    const [c] = await admin.createTopics([topic]);
    print(
      s.output,
      {
        name,
        created: true,
        topicId: c!.topicId,
        partitions: c!.numPartitions,
        replicationFactor: c!.replicationFactor,
      },
      () => `Created topic ${name}.`,
    );
  } catch (e) {
    const err = unwrap(e);
    if (o.ifNotExists && err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
      if (s.output === 'json') print(s.output, { name, created: false }, () => '');
      return;
    }
    throw err;
  }
}

function parseConfigs(pairs: readonly string[]): Record<string, string> {
  for (const p of pairs) {
    if (p.split(/\s*=\s*/).length !== 2) {
      throw new UsageError(
        'requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".',
      );
    }
  }
  return parseKeyValues(pairs, '--config');
}

async function topicsList(admin: Admin, o: TopicsOptions, s: ClientSettings): Promise<void> {
  const names = await selectTopics(admin, o);
  print(s.output, names, () => names.join('\n'));
}

async function topicsAlter(admin: Admin, o: TopicsOptions, s: ClientSettings): Promise<void> {
  const topics = await selectTopics(admin, o);
  ensureFound(topics, o);
  if (topics.length === 0) return;
  const set = parseConfigs(o.config);
  if (o.partitions !== undefined) {
    let extra: number[][] | undefined;
    if (o.replicaAssignment !== undefined) {
      const all = parseReplicaAssignment(o.replicaAssignment);
      const now = (await admin.describeTopics(topics))[0]!.partitions.length;
      extra = all.slice(now);
    }
    await admin.createPartitions(
      topics.map((topic) => ({ topic, totalCount: o.partitions!, ...(extra ? { assignments: extra } : {}) })),
    );
  }
  const ops = [
    ...Object.entries(set).map(([name, value]) => ({ name, op: 'set' as const, value })),
    ...o.deleteConfig.map((name) => ({ name, op: 'delete' as const })),
  ];
  if (ops.length > 0) await admin.alterConfigs(topics.map((name) => ({ type: 'topic' as const, name, ops })));
  if (s.output === 'json') {
    print(s.output, { topics, partitions: o.partitions ?? null, set, deleted: o.deleteConfig }, () => '');
  }
}

async function topicsDelete(admin: Admin, o: TopicsOptions, s: ClientSettings): Promise<void> {
  const topics = await selectTopics(admin, o);
  ensureFound(topics, o);
  if (topics.length > 0) await admin.deleteTopics(topics);
  if (s.output === 'json') print(s.output, { deleted: topics }, () => '');
}

function describeTopicLine(t: TopicReport): string {
  const configs = Object.entries(t.configs)
    .map(([k, v]) => `${k}=${v ?? 'null'}`)
    .join(',');
  const id = t.topicId === 'AAAAAAAAAAAAAAAAAAAAAA' ? '' : `\tTopicId: ${t.topicId}`;
  return (
    `Topic: ${t.name}${id}\tPartitionCount: ${t.partitionCount}\tReplicationFactor: ${t.replicationFactor}` +
    `\tConfigs: ${configs}`
  );
}

async function topicsDescribe(admin: Admin, o: TopicsOptions, s: ClientSettings): Promise<void> {
  const topics = await selectTopics(admin, o);
  ensureFound(topics, o);
  const [{ results, failures }, cluster] = await Promise.all([
    describeTopicReports(admin, topics),
    admin.describeCluster(),
  ]);
  const live = new Set(cluster.brokers.map((b) => b.nodeId));
  const reports = [o.underReplicatedPartitions, o.unavailablePartitions, o.underMinIsrPartitions, o.atMinIsrPartitions];
  const reporting = reports.some(Boolean);
  const lines: string[] = [];
  const shown: TopicReport[] = [];
  for (const t of results) {
    const overridden = Object.keys(t.configs).length > 0;
    if (o.topicsWithOverrides && !overridden) continue;
    const minIsr = t.minInsyncReplicas ?? 1;
    const partitions = t.partitions.filter(
      (p) =>
        !reporting ||
        (o.underReplicatedPartitions && p.isr.length < p.replicas.length) ||
        (o.unavailablePartitions && (p.leader === null || !live.has(p.leader))) ||
        (o.underMinIsrPartitions && (p.leader === null || p.isr.length < minIsr)) ||
        (o.atMinIsrPartitions && p.isr.length === minIsr),
    );
    if (reporting && partitions.length === 0) continue;
    shown.push({ ...t, partitions });
    if (!reporting) lines.push(describeTopicLine(t));
    if (o.topicsWithOverrides) continue;
    for (const p of partitions) {
      lines.push(
        `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader ?? 'none'}` +
          `\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`,
      );
    }
  }
  if (s.output === 'json') out(`${toJson(shown)}\n`);
  else if (lines.length > 0) out(`${lines.join('\n')}\n`);
  for (const f of failures) process.stderr.write(`Error while executing topic command : ${f.error.message}\n`);
  if (failures.length > 0) process.exitCode = ExitCode.FAILED;
}

export function registerKafkaTopics(program: Command): void {
  addCommonOptions(
    program
      .command('topics')
      .aliases(['kafka-topics', 'kafka-topics.sh'])
      .description("kafka-topics.sh's flags: --create, --list, --describe, --alter or --delete with --topic")
      .option('--create', 'create a new topic')
      .option('--list', 'list all topics')
      .option('--describe', 'partitions, leaders, replicas and ISR of the given topics (default: all)')
      .option('--alter', 'add partitions (--partitions) or change configs (--config, --delete-config)')
      .option('--delete', 'delete a topic')
      .option('--topic <topic>', 'the topic; outside --create a regular expression')
      .option('--partitions <n>', 'partitions of the topic being created or altered', intArg(-2147483648))
      .option('--replication-factor <n>', 'replication factor of the topic being created', intArg(-2147483648))
      .option('--replica-assignment <list>', 'manual placement: 1:2,2:3 (partition 0 on 1 and 2, ...)')
      .option('--config <name=value>', 'a topic config (repeatable)', collect, [])
      .option('--delete-config <name>', 'with --alter: remove a topic config (repeatable)', collect, [])
      .option('--if-exists', 'alter, delete or describe only if the topic exists')
      .option('--if-not-exists', 'create only if the topic does not exist')
      .option('--exclude-internal', 'leave internal topics out of --list and --describe')
      .option('--topics-with-overrides', 'describe only topics with configs set')
      .option('--under-replicated-partitions', 'describe only under-replicated partitions')
      .option('--unavailable-partitions', 'describe only partitions without an available leader')
      .option(
        '--under-min-isr-partitions',
        'describe only partitions with fewer in-sync replicas than min.insync.replicas',
      )
      .option('--at-min-isr-partitions', 'describe only partitions with exactly min.insync.replicas in-sync replicas'),
  ).action((opts: TopicsOptions) =>
    runTool(opts, 'Error while executing topic command : ', async (s) => {
      const action = checkTopicsArgs(opts);
      await withAdmin(s, async (admin) => {
        if (action === 'create') await topicsCreate(admin, opts, s);
        else if (action === 'list') await topicsList(admin, opts, s);
        else if (action === 'alter') await topicsAlter(admin, opts, s);
        else if (action === 'delete') await topicsDelete(admin, opts, s);
        else await topicsDescribe(admin, opts, s);
      });
    }),
  );
}

// ---- kafka-consumer-groups ------------------------------------------------------------------------------------

interface GroupsOptions extends CommonOptions, ResetOptionValues {
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  resetOffsets?: boolean;
  deleteOffsets?: boolean;
  group: string[];
  allGroups?: boolean;
  dryRun?: boolean;
  execute?: boolean;
  members?: boolean;
  offsets?: boolean;
  verbose?: boolean;
  state?: string | boolean;
  type?: string | boolean;
  timeout?: string;
}

const GROUP_ACTIONS = {
  list: 'list',
  describe: 'describe',
  delete: 'delete',
  resetOffsets: 'reset-offsets',
  deleteOffsets: 'delete-offsets',
};

function checkGroupsArgs(o: GroupsOptions): string {
  const actions = present(o as unknown as Record<string, unknown>, GROUP_ACTIONS);
  if (actions.length !== 1) {
    throw new UsageError(
      'Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets',
    );
  }
  const action = actions[0]!;
  const hasGroups = o.group.length > 0 || o.allGroups === true;
  if (o.group.length > 0 && o.allGroups) {
    throw new UsageError('Option "[group]" can\'t be used with option "[all-groups]"');
  }
  if ((action === 'describe' || action === 'delete' || action === 'reset-offsets') && !hasGroups) {
    throw new UsageError(`Option [${action}] takes one of these options: [all-groups], [group]`);
  }
  if (action === 'describe') {
    if ([o.members, o.offsets, o.state].filter((x) => x !== undefined && x !== false).length > 1) {
      throw new UsageError('Option [describe] takes at most one of these options: [members], [offsets], [state]');
    }
    if (typeof o.state === 'string') throw new UsageError('Option [describe] does not take a value for [state]');
  } else {
    for (const [key, flag] of [
      ['members', 'members'],
      ['offsets', 'offsets'],
      ['verbose', 'verbose'],
    ] as const) {
      if (o[key]) throw new UsageError(`Option "[${flag}]" can only be used with option "[describe]"`);
    }
    if (o.state !== undefined && action !== 'list') {
      throw new UsageError('Option "[state]" can only be used with options "[describe]" and "[list]"');
    }
  }
  if (o.type !== undefined && action !== 'list') {
    throw new UsageError('Option "[type]" can only be used with option "[list]"');
  }
  if (action === 'delete' && o.topic.length > 0) {
    throw new UsageError('The consumer does not support topic-specific offset deletion from a consumer group.');
  }
  if (action === 'delete-offsets' && (o.group.length !== 1 || o.topic.length === 0)) {
    throw new UsageError('Option [delete-offsets] takes the following options: [group], [topic]');
  }
  if (action === 'reset-offsets' && o.dryRun && o.execute) {
    throw new UsageError('Option [reset-offsets] only accepts one of [execute] and [dry-run]');
  }
  if (o.topic.length > 0 && action !== 'reset-offsets' && action !== 'delete-offsets') {
    throw new UsageError(`Option "[topic]" can't be used with option "[${action}]"`);
  }
  return action;
}

async function groupIds(admin: Admin, o: GroupsOptions): Promise<string[]> {
  if (!o.allGroups) return [...new Set(o.group)].sort();
  return consumerGroups(admin).then((gs) => gs.map((g) => g.groupId));
}

/** Groups of consumers, as kafka-consumer-groups lists them: the consumer protocol, or offsets only. */
async function consumerGroups(admin: Admin) {
  return (await admin.listGroups()).filter((g) => g.protocolType === 'consumer' || g.protocolType === '');
}

/** A group that does not exist, in kafka-consumer-groups' words. */
function missingGroup(e: unknown, group: string): unknown {
  const err = unwrap(e);
  if (err instanceof KafkaError && err.code === ErrorCode.GROUP_ID_NOT_FOUND) {
    return new ToolError(`Error: Consumer group '${group}' does not exist.`);
  }
  return err;
}

/** Each group in turn; one that fails is its error line (exit status 1) and the others still print. */
async function forGroups<T>(
  groups: readonly string[],
  one: (group: string) => Promise<T>,
  show: (result: T) => void,
): Promise<T[]> {
  const done: T[] = [];
  for (const group of groups) {
    let result: T;
    try {
      result = await one(group);
    } catch (e) {
      const err = missingGroup(e, group);
      if (err instanceof KafkaConnectionError || err instanceof KafkaTimeoutError) throw err;
      const message =
        err instanceof ToolError
          ? err.message
          : `Error: Executing consumer group command failed due to ${err instanceof Error ? err.message : String(err)}`;
      process.stderr.write(`${message}\n`);
      process.exitCode = ExitCode.FAILED;
      continue;
    }
    done.push(result);
    show(result);
  }
  return done;
}

async function groupsList(admin: Admin, o: GroupsOptions, s: ClientSettings): Promise<void> {
  const states = typeof o.state === 'string' ? new Set(parseStates([o.state])) : null;
  const types =
    typeof o.type === 'string'
      ? new Set<string>(
          o.type.split(',').map((t) => {
            const v = t.trim().toLowerCase();
            if (v !== 'classic' && v !== 'consumer') {
              throw new UsageError(`Invalid types list '${o.type}'. Valid types are: classic, consumer`);
            }
            return v;
          }),
        )
      : null;
  const groups = (await consumerGroups(admin)).filter(
    (g) => (states === null || states.has(g.state)) && (types === null || types.has(g.type.toLowerCase())),
  );
  if (s.output === 'json') {
    print(s.output, groups, () => '');
    return;
  }
  const withState = o.state !== undefined;
  const withType = o.type !== undefined;
  if (!withState && !withType) {
    if (groups.length > 0) out(`${groups.map((g) => g.groupId).join('\n')}\n`);
    return;
  }
  const widths = [
    widest(
      15,
      groups.map((g) => g.groupId),
    ) + 10,
    ...(withType && withState ? [20] : []),
  ];
  const row = (id: string, type: string, state: string) =>
    columns(widths, [id, ...(withType ? [type] : []), ...(withState ? [state] : [])]);
  const typeName = (t: string) => (t === '' ? 'Unknown' : t[0]!.toUpperCase() + t.slice(1));
  out(
    `${[row('GROUP', 'TYPE', 'STATE'), ...groups.map((g) => row(g.groupId, typeName(g.type), g.state || 'Unknown'))].join('\n')}\n`,
  );
}

function offsetsBlock(r: GroupOffsets): string {
  const rows = r.partitions;
  const widths = [
    widest(
      15,
      rows.map((x) => x.group),
    ),
    widest(
      15,
      rows.map((x) => dash(x.topic)),
    ),
    10,
    15,
    15,
    15,
    widest(
      15,
      rows.map((x) => dash(x.consumerId)),
    ),
    widest(
      15,
      rows.map((x) => dash(x.host)),
    ),
  ];
  const lines = [
    columns(widths, OFFSET_HEADERS),
    ...rows.map((x) =>
      columns(
        widths,
        [x.group, x.topic, x.partition, x.currentOffset, x.logEndOffset, x.lag, x.consumerId, x.host, x.clientId].map(
          dash,
        ),
      ),
    ),
  ];
  return `\n${lines.join('\n')}\n`;
}

async function groupsDescribe(admin: Admin, o: GroupsOptions, s: ClientSettings): Promise<void> {
  const groups = await groupIds(admin, o);
  const json: unknown[] = [];
  const note = (group: string, state: string, rows: number) => {
    const text = stateNote(group, state);
    if (text !== null && s.output === 'table') process.stderr.write(`\n${text}\n`);
    return rows > 0;
  };
  if (o.members) {
    await forGroups(
      groups,
      (g) => groupMembers(admin, g),
      (r) => {
        json.push(r);
        if (s.output === 'json') return;
        note(r.group, r.state, r.members.length);
        const withInstance = r.members.some((m) => m.groupInstanceId !== null && m.groupInstanceId !== '');
        const widths = [
          widest(
            15,
            r.members.map((m) => m.group),
          ),
          widest(
            15,
            r.members.map((m) => m.consumerId),
          ),
          ...(withInstance
            ? [
                widest(
                  17,
                  r.members.map((m) => m.groupInstanceId ?? ''),
                ),
              ]
            : []),
          widest(
            15,
            r.members.map((m) => m.host),
          ),
          widest(
            15,
            r.members.map((m) => m.clientId),
          ),
          15,
          ...(o.verbose
            ? [
                15,
                widest(
                  20,
                  r.members.map((m) => dash(m.assignment)),
                ),
                15,
              ]
            : []),
        ];
        const line = (cells: string[], instance: string, verbose: string[]) =>
          columns(widths, [
            ...cells.slice(0, 2),
            ...(withInstance ? [instance] : []),
            ...cells.slice(2),
            ...(o.verbose ? verbose : []),
          ]);
        const lines = [
          line(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS'], 'GROUP-INSTANCE-ID', [
            'CURRENT-EPOCH',
            'CURRENT-ASSIGNMENT',
            'TARGET-EPOCH',
            'TARGET-ASSIGNMENT',
          ]),
          ...r.members.map((m) =>
            line([m.group, m.consumerId, m.host, m.clientId, String(m.partitions)], m.groupInstanceId ?? '', [
              dash(m.memberEpoch),
              dash(m.assignment),
              dash(r.assignmentEpoch),
              dash(m.targetAssignment),
            ]),
          ),
        ];
        out(`\n${lines.join('\n')}\n`);
      },
    );
  } else if (o.state === true) {
    await forGroups(
      groups,
      (g) => groupState(admin, g),
      (r) => {
        json.push(r);
        if (s.output === 'json') return;
        note(r.group, r.state, 1);
        const coordinator = `${r.coordinator.host ?? ''}:${r.coordinator.port ?? ''}  (${r.coordinator.id})`;
        const widths = [widest(15, [r.group]), widest(25, [coordinator]), 20, 20, ...(o.verbose ? [15, 25] : [])];
        const header = ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE'];
        const row = [r.group, coordinator, r.assignmentStrategy || '-', r.state];
        const verboseHeader = o.verbose ? ['GROUP-EPOCH', 'TARGET-ASSIGNMENT-EPOCH'] : [];
        const verboseRow = o.verbose ? [dash(r.groupEpoch), dash(r.assignmentEpoch)] : [];
        out(
          `\n${columns(widths, [...header, ...verboseHeader, '#MEMBERS'])}\n${columns(widths, [...row, ...verboseRow, String(r.members)])}\n`,
        );
      },
    );
  } else {
    await forGroups(
      groups,
      (g) => groupOffsets(admin, g),
      (r) => {
        json.push(r);
        if (s.output === 'json') return;
        if (note(r.group, r.state, r.partitions.length)) out(offsetsBlock(r));
      },
    );
  }
  if (s.output === 'json') out(`${toJson(o.allGroups || groups.length > 1 ? json : (json[0] ?? null))}\n`);
}

async function groupsDelete(admin: Admin, o: GroupsOptions, s: ClientSettings): Promise<void> {
  const groups = await groupIds(admin, o);
  const { results, failures } = await settled(admin.deleteGroups(groups));
  const quoted = (list: readonly string[]) => list.map((g) => `'${g}'`).join(', ');
  if (s.output === 'json') {
    print(
      s.output,
      { deleted: results, failed: failures.map((f) => ({ group: f.item, error: f.error.message })) },
      () => '',
    );
  } else if (failures.length === 0) {
    out(`Deletion of requested consumer groups (${quoted(results)}) was successful.\n`);
  } else if (results.length > 0) {
    out(`These consumer groups were deleted successfully: ${quoted(results)}\n`);
  }
  if (failures.length > 0) {
    process.stderr.write('Error: Deletion of some consumer groups failed:\n');
    for (const f of failures) {
      const e = f.error;
      const reason = e instanceof KafkaError ? `${e.errorName}: ${e.message}` : e.message;
      process.stderr.write(`* Group '${f.item}' could not be deleted due to: ${reason}\n`);
    }
    process.exitCode = ExitCode.FAILED;
  }
}

const RESET_MISSING_EXECUTE =
  'WARN: No action will be performed as the --execute option is missing. In a future major release, the default ' +
  'behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. ' +
  'You should add the --dry-run option explicitly if you are scripting this command and want to keep the current ' +
  'default behavior without prompting.';

async function groupsReset(admin: Admin, o: GroupsOptions, s: ClientSettings): Promise<void> {
  const groups = await groupIds(admin, o);
  const scope = resetScope(o);
  const to = resetTarget(o);
  const dryRun = o.execute !== true;
  const all: { group: string; offsets: ResetOffset[] }[] = [];
  await forGroups(
    groups,
    async (g) => {
      try {
        return { group: g, offsets: await resetOffsets(admin, g, scope, to, dryRun) };
      } catch (e) {
        const err = unwrap(e);
        // The refusal of a group with members is Kafka's own sentence.
        if (err instanceof KafkaError && err.code === ErrorCode.NON_EMPTY_GROUP)
          throw new ToolError(`Error: ${err.message}`);
        throw err;
      }
    },
    (r) => all.push(r),
  );
  if (s.output === 'json') {
    out(`${toJson(all.map((r) => ({ group: r.group, dryRun, offsets: r.offsets })))}\n`);
    return;
  }
  const rows = all.flatMap((r) => r.offsets.map((x) => ({ group: r.group, ...x })));
  if (rows.length === 0) {
    if (all.length > 0) out('\n');
    return;
  }
  const widths = [
    widest(
      15,
      rows.map((r) => r.group),
    ),
    widest(
      15,
      rows.map((r) => r.topic),
    ),
    10,
  ];
  const lines = [
    columns(widths, ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']),
    ...rows.map((r) => columns(widths, [r.group, r.topic, String(r.partition), String(r.offset)])),
  ];
  out(`\n${lines.join('\n')}\n`);
}

async function groupsDeleteOffsets(admin: Admin, o: GroupsOptions, s: ClientSettings): Promise<void> {
  const group = o.group[0]!;
  let outcome: Awaited<ReturnType<typeof deleteOffsets>>;
  try {
    outcome = await deleteOffsets(admin, group, o.topic.map(parseTopicPartitions));
  } catch (e) {
    const err = unwrap(e);
    if (err instanceof KafkaError && !(err instanceof KafkaConnectionError))
      throw new ToolError(`Error: ${err.message}`);
    throw err;
  }
  const rows = [
    ...outcome.deleted.map((d) => ({ topic: d.topic, partition: d.partition as number | null, status: 'Successful' })),
    ...outcome.failed.map((f) => ({ topic: f.topic, partition: f.partition, status: `Error: ${f.error.message}` })),
  ].sort((a, b) => (a.topic === b.topic ? (a.partition ?? -1) - (b.partition ?? -1) : a.topic < b.topic ? -1 : 1));
  if (s.output === 'json') {
    print(
      s.output,
      {
        group,
        deleted: outcome.deleted,
        failed: outcome.failed.map((f) => ({ topic: f.topic, partition: f.partition, error: f.error.message })),
      },
      () => '',
    );
  } else {
    if (outcome.failed.length === 0) out(`Request succeeded for deleting offsets from group ${group}.\n`);
    const widths = [
      widest(
        15,
        rows.map((r) => r.topic),
      ),
      10,
    ];
    const lines = [
      columns(widths, ['TOPIC', 'PARTITION', 'STATUS']),
      ...rows.map((r) => columns(widths, [r.topic, dash(r.partition), r.status])),
    ];
    out(`\n${lines.join('\n')}\n`);
  }
  if (outcome.failed.length > 0) {
    process.stderr.write('Error: Encountered some partition-level error, see the follow-up details.\n');
    process.exitCode = ExitCode.FAILED;
  }
}

export function registerKafkaConsumerGroups(program: Command): void {
  addCommonOptions(
    addResetOptions(
      program
        .command('consumer-groups')
        .aliases(['kafka-consumer-groups', 'kafka-consumer-groups.sh'])
        .description(
          "kafka-consumer-groups.sh's flags: --list, --describe, --delete, --reset-offsets or --delete-offsets",
        )
        .option('--list', 'list all consumer groups')
        .option('--describe', 'describe groups: offsets and lag (or --members, or --state)')
        .option('--delete', 'delete groups')
        .option('--reset-offsets', "reset a group's committed offsets (inactive groups only)")
        .option('--delete-offsets', "delete a group's committed offsets of some topics")
        .option('--group <group>', 'the group (repeatable)', collect, [])
        .option('--all-groups', 'every consumer group'),
    )
      .option('--dry-run', 'with --reset-offsets: show the new offsets (the default)')
      .option('--execute', 'with --reset-offsets: commit the new offsets')
      .option('--members', 'with --describe: the members')
      .option('--offsets', 'with --describe: offsets and lag (the default)')
      .option('--verbose', 'with --describe: more columns')
      .option('--state [states]', 'with --describe: the state; with --list: show or filter by state')
      .option('--type [types]', 'with --list: show or filter by type (classic, consumer)')
      .option('--timeout <ms>', 'how long to wait for the brokers', intArg(1)),
  ).action((opts: GroupsOptions) =>
    runTool(opts, 'Error: Executing consumer group command failed due to ', async (s) => {
      const action = checkGroupsArgs(opts);
      if (action === 'reset-offsets') {
        resetScope(opts);
        resetTarget(opts);
        if (!opts.dryRun && !opts.execute) process.stderr.write(`${RESET_MISSING_EXECUTE}\n`);
      }
      const settings = opts.timeout === undefined ? s : { ...s, requestTimeoutMs: Number(opts.timeout) };
      await withAdmin(settings, async (admin) => {
        if (action === 'list') await groupsList(admin, opts, s);
        else if (action === 'describe') await groupsDescribe(admin, opts, s);
        else if (action === 'delete') await groupsDelete(admin, opts, s);
        else if (action === 'reset-offsets') await groupsReset(admin, opts, s);
        else await groupsDeleteOffsets(admin, opts, s);
      });
    }),
  );
}
