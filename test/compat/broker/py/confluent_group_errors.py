"""What confluent-kafka-python (librdkafka) reports for bad offset requests (see ../group-errors.test.ts).

The spec on stdin: bootstrap and `ops`, run one after the other, each with a consumer of its own that joins no group
(a standalone consumer: its commits carry generation -1 and no member id):
  commit     group, offsets [[topic, partition, offset], ...]   Consumer.commit(offsets, asynchronous=False)
  committed  group, partitions [[topic, partition], ...]        Consumer.committed()
  describe   code                                               librdkafka's name and text for a Kafka error code

Printed: {"results": [...]}, one per op:
  commit     {"raised": [code, name, text] or null, "partitions": [[topic, partition, offset, error or null], ...]}
  committed  {"partitions": [[topic, partition, offset, error or null], ...]}  (offset -1001 is OFFSET_INVALID: none)
  describe   [code, name, text]
"""
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from common import emit, read_spec

spec = read_spec()


def consumer(group):
    return Consumer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-group-errors',
        'group.id': group,
        'enable.auto.commit': False,
    })


def error(e):
    return None if e is None else [e.code(), e.name(), e.str()]


def partitions(tps):
    return [[tp.topic, tp.partition, tp.offset, error(tp.error)] for tp in tps]


def commit(op):
    c = consumer(op['group'])
    try:
        offsets = [TopicPartition(t, p, o) for t, p, o in op['offsets']]
        try:
            return {'raised': None, 'partitions': partitions(c.commit(offsets=offsets, asynchronous=False))}
        except KafkaException as e:
            return {'raised': error(e.args[0]), 'partitions': []}
    finally:
        c.close()


def committed(op):
    c = consumer(op['group'])
    try:
        return {'partitions': partitions(c.committed([TopicPartition(t, p) for t, p in op['partitions']], timeout=20))}
    finally:
        c.close()


def describe(op):
    return error(KafkaError(op['code']))


OPS = {'commit': commit, 'committed': committed, 'describe': describe}

emit({'results': [OPS[op['op']](op) for op in spec['ops']]})
