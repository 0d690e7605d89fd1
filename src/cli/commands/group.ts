/**
 * `samsa group`: list consumer groups, describe them (lag per partition as kafka-consumer-groups --describe prints
 * it, or their members, or their state), reset their committed offsets, delete groups and their offsets, through
 * the Admin client. Tables for people, `--output json` for scripts.
 *
 * Resetting offsets changes where a group's consumers resume, so it is explicit: the command needs --dry-run (show
 * the new offsets) or --execute (commit them), and the broker side refuses groups that still have members.
 *
 * The collected facts (`groupOffsets`, `groupMembers`, `groupStates`, `resetOffsets`, `deleteOffsets`) are shared
 * with `samsa consumer-groups` (kafka-tools.ts), which prints them Kafka's way.
 */
import type { Command } from 'commander';
import type {
  Admin,
  GroupDescription,
  ItemFailure,
  ResetOffset,
  ResetTarget,
  TopicPartitionRef,
} from '../../client/admin/index.js';
import {
  bigintArg,
  collect,
  GROUP_HINTS,
  parseDateTime,
  parseDuration,
  parseTopicPartitions,
  printLines,
  reportFailures,
  type Settled,
  settled,
  TOPIC_HINTS,
  type TopicSelection,
  unwrap,
  withAdmin,
} from '../support/admin.js';
import { addCommonOptions, type CommonOptions, runCommand } from '../support/connection-options.js';
import { CommandError, UsageError } from '../support/errors.js';
import { type Cell, print, renderTable } from '../support/output.js';

// ---- facts shared with `samsa consumer-groups` -------------------------------------------------------------------

export interface OffsetRow {
  group: string;
  /** null for a member with nothing assigned. */
  topic: string | null;
  partition: number | null;
  currentOffset: bigint | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

export interface GroupOffsets {
  group: string;
  state: string;
  totalLag: bigint;
  /** Partitions with a committed offset or an owner, by topic and partition, then members owning nothing. */
  partitions: OffsetRow[];
}

/** kafka-consumer-groups --describe: per partition the committed offset, the log end, the lag and the owner. */
export async function groupOffsets(admin: Admin, group: string): Promise<GroupOffsets> {
  const [lag, description] = await Promise.all([admin.describeGroupLag(group), describeOne(admin, group)]);
  const rows: OffsetRow[] = lag.partitions.map((p) => ({
    group,
    topic: p.topic,
    partition: p.partition,
    currentOffset: p.committedOffset,
    logEndOffset: p.logEndOffset,
    lag: p.lag,
    consumerId: p.memberId,
    host: p.host,
    clientId: p.clientId,
  }));
  for (const m of description.members) {
    if ((m.assignment ?? []).some((t) => t.partitions.length > 0)) continue;
    rows.push({
      group,
      topic: null,
      partition: null,
      currentOffset: null,
      logEndOffset: null,
      lag: null,
      consumerId: m.memberId,
      host: m.clientHost,
      clientId: m.clientId,
    });
  }
  return { group, state: lag.state, totalLag: lag.totalLag, partitions: rows };
}

async function describeOne(admin: Admin, group: string): Promise<GroupDescription> {
  try {
    return (await admin.describeGroups([group]))[0]!;
  } catch (e) {
    throw unwrap(e);
  }
}

export interface MemberRow {
  group: string;
  consumerId: string;
  groupInstanceId: string | null;
  host: string;
  clientId: string;
  partitions: number;
  /** 'topic:0,1;other:2', or null when nothing is assigned. */
  assignment: string | null;
  memberEpoch: number | null;
  targetAssignment: string | null;
}

export interface GroupMembers {
  group: string;
  state: string;
  /** KIP-848 groups: the epoch of the target assignment (else null). */
  assignmentEpoch: number | null;
  members: MemberRow[];
}

function assignmentText(a: readonly { topic: string; partitions: number[] }[] | null): string | null {
  const parts = (a ?? [])
    .filter((t) => t.partitions.length > 0)
    .map((t) => `${t.topic}:${t.partitions.join(',')}`)
    .sort();
  return parts.length === 0 ? null : parts.join(';');
}

/** kafka-consumer-groups --describe --members. */
export async function groupMembers(admin: Admin, group: string): Promise<GroupMembers> {
  const d = await describeOne(admin, group);
  return {
    group,
    state: d.state,
    assignmentEpoch: d.assignmentEpoch,
    members: d.members.map((m) => ({
      group,
      consumerId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      host: m.clientHost,
      clientId: m.clientId,
      partitions: (m.assignment ?? []).reduce((n, t) => n + t.partitions.length, 0),
      assignment: assignmentText(m.assignment),
      memberEpoch: m.memberEpoch,
      targetAssignment: assignmentText(m.targetAssignment),
    })),
  };
}

export interface GroupState {
  group: string;
  /** 'classic' or 'consumer' (KIP-848). */
  type: string;
  coordinator: { id: number; host: string | null; port: number | null };
  assignmentStrategy: string;
  state: string;
  members: number;
  groupEpoch: number | null;
  assignmentEpoch: number | null;
}

/** kafka-consumer-groups --describe --state. */
export async function groupState(admin: Admin, group: string): Promise<GroupState> {
  const [d, cluster] = await Promise.all([describeOne(admin, group), admin.describeCluster()]);
  const broker = cluster.brokers.find((b) => b.nodeId === d.coordinator);
  return {
    group,
    type: d.type,
    coordinator: { id: d.coordinator, host: broker?.host ?? null, port: broker?.port ?? null },
    assignmentStrategy: d.protocol,
    state: d.state,
    members: d.members.length,
    groupEpoch: d.groupEpoch,
    assignmentEpoch: d.assignmentEpoch,
  };
}

export type ResetScope = { allTopics: true } | { allTopics: false; topics: readonly TopicSelection[] };

/**
 * kafka-consumer-groups --reset-offsets: the new offset of every selected partition (with --all-topics, those the
 * group has committed offsets for), committed unless `dryRun`. Several topics are checked first, so that a bad one
 * does not leave the others half reset.
 */
export async function resetOffsets(
  admin: Admin,
  group: string,
  scope: ResetScope,
  to: ResetTarget,
  dryRun: boolean,
): Promise<ResetOffset[]> {
  let selections: TopicSelection[];
  if (scope.allTopics) {
    const committed = (await admin.listGroupOffsets(group)).filter((c) => c.offset !== null);
    const byTopic = new Map<string, number[]>();
    for (const c of committed) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c.partition]);
    selections = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  } else {
    selections = mergeSelections(scope.topics);
  }
  const run = async (dry: boolean): Promise<ResetOffset[]> => {
    const out: ResetOffset[] = [];
    for (const sel of selections) {
      const partitions = sel.partitions ?? undefined;
      if (partitions !== undefined) await checkPartitions(admin, sel.topic, partitions);
      out.push(
        ...(await admin.resetGroupOffsets(group, {
          topic: sel.topic,
          ...(partitions === undefined ? {} : { partitions }),
          to,
          dryRun: dry,
        })),
      );
    }
    return out;
  };
  if (!dryRun && selections.length > 1) await run(true);
  return run(dryRun);
}

/** The same topic named twice is one selection (every partition if either named none). */
function mergeSelections(list: readonly TopicSelection[]): TopicSelection[] {
  const merged = new Map<string, number[] | null>();
  for (const s of list) {
    const prev = merged.get(s.topic);
    if (prev === null || s.partitions === null) merged.set(s.topic, null);
    else
      merged.set(
        s.topic,
        [...new Set([...(prev ?? []), ...s.partitions])].sort((a, b) => a - b),
      );
  }
  return [...merged].map(([topic, partitions]) => ({ topic, partitions }));
}

async function checkPartitions(admin: Admin, topic: string, partitions: readonly number[]): Promise<void> {
  let count: number;
  try {
    count = (await admin.describeTopics([topic]))[0]!.partitions.length;
  } catch (e) {
    throw unwrap(e);
  }
  const missing = partitions.filter((p) => p >= count);
  if (missing.length > 0) {
    throw new CommandError(
      `topic ${topic} has partitions 0 to ${count - 1}: there is no partition ${missing.join(', ')}`,
    );
  }
}

export interface OffsetDeletion {
  deleted: TopicPartitionRef[];
  /** Partitions (null: the whole topic, which could not be described) whose offsets were not deleted. */
  failed: { topic: string; partition: number | null; error: Error }[];
}

/** The partitions of the selections (every partition of a topic named alone), then OffsetDelete. */
export async function deleteOffsets(
  admin: Admin,
  group: string,
  topics: readonly TopicSelection[],
): Promise<OffsetDeletion> {
  const refs: TopicPartitionRef[] = [];
  const whole = [...new Set(topics.filter((t) => t.partitions === null).map((t) => t.topic))];
  const described = whole.length > 0 ? await settled(admin.describeTopics(whole)) : { results: [], failures: [] };
  const failed: OffsetDeletion['failed'] = described.failures.map((f) => ({
    topic: f.item,
    partition: null,
    error: f.error,
  }));
  for (const t of mergeSelections(topics)) {
    const parts = t.partitions ?? described.results.find((d) => d.name === t.topic)?.partitions.map((p) => p.partition);
    for (const partition of parts ?? []) refs.push({ topic: t.topic, partition });
  }
  if (refs.length === 0) return { deleted: [], failed };
  const outcome = await settled(admin.deleteGroupOffsets(group, refs));
  const byName = new Map(refs.map((r) => [`${r.topic}-${r.partition}`, r]));
  for (const f of outcome.failures) {
    const ref = byName.get(f.item);
    failed.push({ topic: ref?.topic ?? f.item, partition: ref?.partition ?? null, error: f.error });
  }
  return { deleted: outcome.results, failed };
}

/** Kafka's consumer group states (GroupState), for validating --state. */
export const GROUP_STATES = [
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
  'Empty',
  'Assigning',
  'Reconciling',
] as const;

/** Kafka's spelling of each state given in any case; a name that is not a state is a usage error. */
export function parseStates(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => {
      const state = GROUP_STATES.find((s) => s.toLowerCase() === v.toLowerCase());
      if (state === undefined)
        throw new UsageError(`Invalid state '${v}'. Valid states are: ${GROUP_STATES.join(', ')}`);
      return state;
    });
}

export interface ResetOptionValues {
  topic: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toDatetime?: string;
  byDuration?: string;
  toOffset?: bigint;
  shiftBy?: bigint;
}

/** The --topic/--all-topics scope of a reset; both or neither is a usage error. */
export function resetScope(o: ResetOptionValues): ResetScope {
  if (o.allTopics && o.topic.length > 0) throw new UsageError('give either --topic or --all-topics, not both');
  if (o.allTopics) return { allTopics: true };
  if (o.topic.length === 0) {
    throw new UsageError('say which offsets to reset: --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics');
  }
  return { allTopics: false, topics: o.topic.map(parseTopicPartitions) };
}

/** The one reset target given; none or several is a usage error. */
export function resetTarget(o: ResetOptionValues): ResetTarget {
  const targets: ResetTarget[] = [];
  if (o.toEarliest) targets.push('earliest');
  if (o.toLatest) targets.push('latest');
  if (o.toDatetime !== undefined) targets.push({ datetime: parseDateTime(o.toDatetime) });
  if (o.byDuration !== undefined) targets.push({ datetime: Date.now() - parseDuration(o.byDuration) });
  if (o.toOffset !== undefined) targets.push({ offset: o.toOffset });
  if (o.shiftBy !== undefined) targets.push({ shiftBy: o.shiftBy });
  if (targets.length !== 1) {
    throw new UsageError(
      `give exactly one of --to-earliest, --to-latest, --to-datetime, --by-duration, --to-offset, --shift-by${targets.length > 1 ? ', not several' : ''}`,
    );
  }
  return targets[0]!;
}

export function addResetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--topic <topic[:partitions]>',
      'a topic, or some of its partitions: orders:0,1,2 (repeatable)',
      collect,
      [],
    )
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('--to-earliest', 'to the first offset still in the log')
    .option('--to-latest', 'to the log end (skip everything not yet consumed)')
    .option('--to-datetime <iso>', 'to the first record at or after a time, e.g. 2024-05-01T12:00:00.000')
    .option('--by-duration <duration>', 'to the first record at or after a time this long ago, e.g. PT30M')
    .option('--to-offset <n>', 'to this offset (kept within the log)', bigintArg)
    .option('--shift-by <n>', 'move the committed offsets by n (negative: back)', bigintArg);
}

// ---- `samsa group` ----------------------------------------------------------------------------------------------

interface ListOptions extends CommonOptions {
  state: string[];
}

interface DescribeOptions extends CommonOptions {
  members?: boolean;
  state?: boolean;
}

interface ResetOptions extends CommonOptions, ResetOptionValues {
  dryRun?: boolean;
  execute?: boolean;
}

interface DeleteOffsetsOptions extends CommonOptions {
  topic: string[];
}

export const OFFSET_HEADERS = [
  'GROUP',
  'TOPIC',
  'PARTITION',
  'CURRENT-OFFSET',
  'LOG-END-OFFSET',
  'LAG',
  'CONSUMER-ID',
  'HOST',
  'CLIENT-ID',
];

export const offsetCells = (r: OffsetRow): Cell[] => [
  r.group,
  r.topic,
  r.partition,
  r.currentOffset,
  r.logEndOffset,
  r.lag,
  r.consumerId,
  r.host,
  r.clientId,
];

/** The note kafka-consumer-groups prints about a group that is empty or rebalancing, or null. */
export function stateNote(group: string, state: string): string | null {
  if (state === 'Empty') return `Consumer group '${group}' has no active members.`;
  if (['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'].includes(state)) {
    return `Warning: Consumer group '${group}' is rebalancing.`;
  }
  return null;
}

/** Runs `one` for each group; a group that fails is a line on stderr and the others still print. */
async function eachGroup<T>(groups: readonly string[], one: (group: string) => Promise<T>): Promise<Settled<T>> {
  const results: T[] = [];
  const failures: ItemFailure[] = [];
  for (const group of groups) {
    try {
      results.push(await one(group));
    } catch (e) {
      const err = unwrap(e);
      if (!(err instanceof Error) || groups.length === 1) throw groupError(err);
      failures.push({ item: group, error: err });
    }
  }
  return { results, failures };
}

export function registerGroup(program: Command): void {
  const group = program.command('group').description('list, describe, reset and delete consumer groups');

  addCommonOptions(
    group
      .command('list')
      .description('consumer groups with their type and state')
      .option('--state <states>', 'only groups in these states, e.g. Stable,Empty (repeatable)', collect, []),
  ).action((opts: ListOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const states = new Set(parseStates(opts.state));
        const groups = (await admin.listGroups()).filter((g) => states.size === 0 || states.has(g.state));
        const rows = groups.map((g) => ({
          group: g.groupId,
          type: g.type || null,
          protocolType: g.protocolType,
          state: g.state || null,
          coordinator: g.coordinator,
        }));
        print(s.output, rows, () =>
          renderTable(
            ['GROUP', 'TYPE', 'PROTOCOL-TYPE', 'STATE', 'COORDINATOR'],
            rows.map((r) => [r.group, r.type, r.protocolType || null, r.state, r.coordinator]),
          ),
        );
      }),
    ),
  );

  addCommonOptions(
    group
      .command('describe <groups...>')
      .description('per partition: committed offset, log end, lag and owner (or --members, or --state)')
      .option('--members', 'the members: client id, host, assigned partitions')
      .option('--state', "the group's state, coordinator, assignor and member count"),
  ).action((groups: string[], opts: DescribeOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        if (opts.members && opts.state) throw new UsageError('give at most one of --members and --state');
        if (opts.members) {
          const { results, failures } = await eachGroup(groups, (g) => groupMembers(admin, g));
          printLines(s.output, groups.length === 1 ? (results[0] ?? null) : results, () =>
            blocks(
              results.map((r) =>
                renderTable(
                  ['GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
                  r.members.map((m) => [
                    m.group,
                    m.consumerId,
                    m.groupInstanceId,
                    m.host,
                    m.clientId,
                    m.partitions,
                    m.assignment,
                  ]),
                ),
              ),
            ),
          );
          for (const r of results) note(r.group, r.state, s.output);
          reportFailures(failures, s, GROUP_HINTS);
        } else if (opts.state) {
          const { results, failures } = await eachGroup(groups, (g) => groupState(admin, g));
          printLines(s.output, groups.length === 1 ? (results[0] ?? null) : results, () =>
            results.length === 0
              ? []
              : [
                  renderTable(
                    ['GROUP', 'TYPE', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
                    results.map((r) => [
                      r.group,
                      r.type,
                      `${r.coordinator.host ?? '?'}:${r.coordinator.port ?? '?'} (${r.coordinator.id})`,
                      r.assignmentStrategy || null,
                      r.state,
                      r.members,
                    ]),
                  ),
                ],
          );
          reportFailures(failures, s, GROUP_HINTS);
        } else {
          const { results, failures } = await eachGroup(groups, (g) => groupOffsets(admin, g));
          printLines(s.output, groups.length === 1 ? (results[0] ?? null) : results, () =>
            blocks(results.map((r) => renderTable(OFFSET_HEADERS, r.partitions.map(offsetCells)))),
          );
          for (const r of results) note(r.group, r.state, s.output);
          reportFailures(failures, s, GROUP_HINTS);
        }
      }),
    ),
  );

  addCommonOptions(
    addResetOptions(
      group
        .command('reset-offsets <group>')
        .description("move an inactive group's committed offsets (needs --dry-run or --execute)"),
    )
      .option('--dry-run', 'show the new offsets, commit nothing')
      .option('--execute', 'commit the new offsets'),
  ).action((groupId: string, opts: ResetOptions) =>
    runCommand(opts, async (s) => {
      const scope = resetScope(opts);
      const to = resetTarget(opts);
      if (opts.dryRun === opts.execute) {
        throw new UsageError(
          opts.dryRun
            ? 'give either --dry-run or --execute, not both'
            : 'reset-offsets needs --dry-run (show the new offsets) or --execute (commit them)',
        );
      }
      await withAdmin(s, async (admin) => {
        let reset: ResetOffset[];
        try {
          reset = await resetOffsets(admin, groupId, scope, to, opts.dryRun === true);
        } catch (e) {
          throw groupError(unwrap(e));
        }
        printLines(s.output, { group: groupId, dryRun: opts.dryRun === true, offsets: reset }, () =>
          reset.length === 0
            ? []
            : [
                renderTable(
                  ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
                  reset.map((r) => [groupId, r.topic, r.partition, r.offset]),
                ),
              ],
        );
        if (reset.length === 0)
          process.stderr.write(`Group '${groupId}' has no committed offsets: nothing to reset.\n`);
        else if (opts.dryRun)
          process.stderr.write('Dry run: nothing was committed (--execute commits these offsets).\n');
      });
    }),
  );

  addCommonOptions(
    group.command('delete <groups...>').description('delete inactive groups and their committed offsets'),
  ).action((groups: string[], opts: CommonOptions) =>
    runCommand(opts, (s) =>
      withAdmin(s, async (admin) => {
        const { results, failures } = await settled(admin.deleteGroups(groups));
        printLines(s.output, { deleted: results }, () => results.map((g) => `Deleted group ${g}.`));
        reportFailures(failures, s, GROUP_HINTS);
      }),
    ),
  );

  addCommonOptions(
    group
      .command('delete-offsets <group>')
      .description("delete a group's committed offsets of some topics")
      .option(
        '--topic <topic[:partitions]>',
        'a topic, or some of its partitions: orders:0,1 (repeatable)',
        collect,
        [],
      ),
  ).action((groupId: string, opts: DeleteOffsetsOptions) =>
    runCommand(opts, async (s) => {
      if (opts.topic.length === 0) throw new UsageError('say which offsets to delete: --topic TOPIC[:PARTITION,...]');
      const topics = opts.topic.map(parseTopicPartitions);
      await withAdmin(s, async (admin) => {
        let outcome: OffsetDeletion;
        try {
          outcome = await deleteOffsets(admin, groupId, topics);
        } catch (e) {
          throw groupError(unwrap(e));
        }
        printLines(s.output, { group: groupId, deleted: outcome.deleted }, () =>
          outcome.deleted.length === 0
            ? []
            : [
                renderTable(
                  ['GROUP', 'TOPIC', 'PARTITION', 'STATUS'],
                  outcome.deleted.map((r) => [groupId, r.topic, r.partition, 'deleted']),
                ),
              ],
        );
        reportFailures(
          outcome.failed.map((f) => ({
            item: f.partition === null ? f.topic : `${f.topic}-${f.partition}`,
            error: f.error,
          })),
          s,
          { ...GROUP_HINTS, ...TOPIC_HINTS },
        );
      });
    }),
  );
}

/** A group-level error with its hint in the message (runCommand prints it as the one line). */
function groupError(e: unknown): unknown {
  if (e instanceof Error && 'code' in e && typeof e.code === 'number') {
    const hint = GROUP_HINTS[e.code];
    if (hint !== undefined && !e.message.endsWith(')')) e.message = `${e.message} (${hint})`;
  }
  return e;
}

/** Tables of several groups, a blank line between them; nothing when every group failed. */
function blocks(tables: readonly string[]): string[] {
  return tables.length === 0 ? [] : [tables.join('\n\n')];
}

function note(group: string, state: string, format: string): void {
  const text = stateNote(group, state);
  if (text !== null && format === 'table') process.stderr.write(`${text}\n`);
}
