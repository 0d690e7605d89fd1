"""Committed offsets of a group and the log end offsets of a topic, read with confluent-kafka-python: a consumer with
the group's group.id that never subscribes (so it does not join) asks committed() (OffsetFetch) and
get_watermark_offsets() (ListOffsets) for every partition. Prints {"partitions": [[p, committed, low, high], ...]}
(committed -1001 when the group has no offset for the partition)."""
from confluent_kafka import Consumer, TopicPartition

from common import emit, read_spec

spec = read_spec()
topic = spec['topic']
consumer = Consumer({
    'bootstrap.servers': spec['bootstrap'],
    'client.id': 'samsa-compat-confluent-lag',
    'group.id': spec['group'],
    'enable.auto.commit': False,
})
parts = [TopicPartition(topic, p) for p in range(spec['partitions'])]
committed = consumer.committed(parts, timeout=30)
rows = []
for tp in sorted(committed, key=lambda t: t.partition):
    if tp.error is not None:
        raise SystemExit('committed %d: %s' % (tp.partition, tp.error))
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=30)
    rows.append([tp.partition, tp.offset, low, high])
consumer.close()
emit({'partitions': rows})
