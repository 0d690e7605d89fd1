"""Sends group and offset requests, good and bad, with kafka-python's own protocol classes and client, and prints
what the broker answered (see ../group-errors.test.ts).

The spec on stdin: bootstrap and `ops`, a list of requests sent one after the other on one connection to the only
broker (it coordinates every group). Each op is an object with `op` and its fields:
  heartbeat  group, generation, member                  HeartbeatRequest v1
  commit     group, generation, member, offsets          OffsetCommitRequest v2 (retention -1: the broker's default),
             offsets [[topic, partition, offset, metadata], ...]
  fetch      group, partitions [[topic, partition], ...]  OffsetFetchRequest v3
  describe   group                                       DescribeGroupsRequest v1
  join       group, member, topic                        JoinGroupRequest v2 (one-step join, range protocol)
  sync       group, generation, member                   SyncGroupRequest v1 (no assignments)
  leave      group, member                               LeaveGroupRequest v1
and three through kafka-python's public API, each with a client of its own:
  admin_describe   group                                 KafkaAdminClient.describe_consumer_groups
  admin_list                                             KafkaAdminClient.list_consumer_groups: [[group, type]]
  consumer_commit  group, offsets (as for commit)        KafkaConsumer(group_id).commit() of assigned partitions
                                                         (a standalone consumer: generation -1, no member id), then
                                                         committed(metadata=True) of each partition

Printed: {"results": [...]}, one per op. An error is [code, name] as kafka-python's error classes have them, e.g.
[25, "UNKNOWN_MEMBER_ID"]; per-partition answers are [topic, partition, code, name] (commit) and
[topic, partition, offset, metadata, code] (fetch).
"""
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka import errors as Errors
from kafka.client_async import KafkaClient
from kafka.coordinator.protocol import ConsumerProtocolMemberMetadata
from kafka.protocol.admin import DescribeGroupsRequest
from kafka.protocol.commit import OffsetCommitRequest, OffsetFetchRequest
from kafka.protocol.group import HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest
from kafka.structs import OffsetAndMetadata

from common import Deadline, emit, read_spec

spec = read_spec()
deadline = Deadline(spec['deadlineSeconds'])


def error(code):
    e = Errors.for_code(code)
    return [code, e.message]


class Connection:
    """kafka-python's KafkaClient, bootstrapped, sending to the cluster's only broker and waiting for each answer."""

    def __init__(self):
        self.client = KafkaClient(bootstrap_servers=spec['bootstrap'], client_id='samsa-group-errors')
        update = self.client.cluster.request_update()
        self.client.poll(future=update, timeout_ms=deadline.left() * 1000)
        brokers = list(self.client.cluster.brokers())
        assert len(brokers) == 1, 'one broker: %r' % brokers
        self.node = brokers[0].nodeId
        while not self.client.ready(self.node):
            assert not deadline.passed(), 'no connection to the broker'
            self.client.poll(timeout_ms=100)

    def send(self, request):
        future = self.client.send(self.node, request)
        while not future.is_done:
            assert not deadline.passed(), 'no answer to %r' % request
            self.client.poll(future=future, timeout_ms=1000)
        if future.failed():
            raise future.exception
        return future.value

    def close(self):
        self.client.close()


def heartbeat(c, op):
    r = c.send(HeartbeatRequest[1](op['group'], op['generation'], op['member']))
    return {'error': error(r.error_code)}


def commit(c, op):
    topics = {}
    for topic, partition, offset, metadata in op['offsets']:
        topics.setdefault(topic, []).append((partition, offset, metadata))
    r = c.send(OffsetCommitRequest[2](
        op['group'], op['generation'], op['member'], OffsetCommitRequest[2].DEFAULT_RETENTION_TIME,
        list(topics.items())))
    return {'partitions': [[t, p] + error(code) for t, ps in r.topics for p, code in ps]}


def fetch(c, op):
    topics = {}
    for topic, partition in op['partitions']:
        topics.setdefault(topic, []).append(partition)
    r = c.send(OffsetFetchRequest[3](op['group'], list(topics.items())))
    return {
        'error': error(r.error_code),
        'partitions': [[t, p, o, m, code] for t, ps in r.topics for p, o, m, code in ps],
    }


def describe(c, op):
    r = c.send(DescribeGroupsRequest[1]([op['group']]))
    [(code, group, state, protocol_type, protocol, members)] = r.groups
    return {
        'error': error(code),
        'group': group,
        'state': state,
        'protocolType': protocol_type,
        'protocol': protocol,
        'members': sorted([member_id, client_id] for member_id, client_id, _host, _meta, _assignment in members),
    }


def join(c, op):
    # kept in a variable: Struct.encode holds its instance only weakly
    subscription = ConsumerProtocolMemberMetadata(0, [op['topic']], b'')
    metadata = subscription.encode()
    r = c.send(JoinGroupRequest[2](op['group'], 6000, 6000, op['member'], 'consumer', [('range', metadata)]))
    return {'error': error(r.error_code), 'generation': r.generation_id, 'member': r.member_id}


def sync(c, op):
    r = c.send(SyncGroupRequest[1](op['group'], op['generation'], op['member'], []))
    return {'error': error(r.error_code)}


def leave(c, op):
    r = c.send(LeaveGroupRequest[1](op['group'], op['member']))
    return {'error': error(r.error_code)}


def admin_describe(_c, op):
    admin = KafkaAdminClient(bootstrap_servers=spec['bootstrap'], client_id='samsa-group-errors-admin')
    try:
        [info] = admin.describe_consumer_groups([op['group']])
        return {
            'group': info.group,
            'state': info.state,
            'protocolType': info.protocol_type,
            'members': sorted([m.member_id, m.client_id] for m in info.members),
        }
    finally:
        admin.close()


def admin_list(_c, _op):
    admin = KafkaAdminClient(bootstrap_servers=spec['bootstrap'], client_id='samsa-group-errors-admin')
    try:
        return {'groups': sorted([group, protocol_type] for group, protocol_type in admin.list_consumer_groups())}
    finally:
        admin.close()


def consumer_commit(_c, op):
    consumer = KafkaConsumer(
        bootstrap_servers=spec['bootstrap'], client_id='samsa-group-errors-consumer', group_id=op['group'],
        enable_auto_commit=False)
    try:
        tps = [TopicPartition(t, p) for t, p, _o, _m in op['offsets']]
        consumer.assign(tps)
        try:
            consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, m) for t, p, o, m in op['offsets']})
            raised = None
        except Errors.KafkaError as e:
            raised = [type(e).__name__, e.errno, e.message]
        committed = [[tp.topic, tp.partition, consumer.committed(tp, metadata=True)] for tp in tps]
        return {
            'raised': raised,
            'committed': [[t, p, None, None] if c is None else [t, p, c.offset, c.metadata] for t, p, c in committed],
        }
    finally:
        consumer.close(autocommit=False)


OPS = {
    'heartbeat': heartbeat,
    'commit': commit,
    'fetch': fetch,
    'describe': describe,
    'join': join,
    'sync': sync,
    'leave': leave,
    'admin_describe': admin_describe,
    'admin_list': admin_list,
    'consumer_commit': consumer_commit,
}

connection = Connection()
results = [OPS[op['op']](connection, op) for op in spec['ops']]
connection.close()
emit({'results': results})
