"""kafka-python against the samsa broker: create the topic with KafkaAdminClient, produce the spec's keyed messages
with one codec (the default partitioner is the Java client's murmur2), consume every partition back from offset 0
with manual assignment (group_id=None), then seek to an offset and to a timestamp (offsets_for_times + seek) and
consume from there. Prints delivery reports, watermarks and records."""
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from common import Deadline, b, emit, headers_in, read_spec, rec

spec = read_spec()
topic = spec['topic']
partitions = spec['partitions']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap_servers': spec['bootstrap'], 'client_id': 'samsa-compat-kafka-python'}
errors = []
admin = KafkaAdminClient(**base)
try:
    admin.create_topics([NewTopic(topic, partitions, 1)])
except Exception as e:  # noqa: BLE001 - reported to the test
    errors.append('create_topics: %r' % e)
admin.close()

producer = KafkaProducer(
    compression_type=None if spec['codec'] == 'none' else spec['codec'],
    acks='all',
    linger_ms=20,
    **base,
)
futures = [producer.send(topic, key=b(m['key']), value=b(m['value']), headers=headers_in(m),
                         timestamp_ms=m['timestamp']) for m in spec['messages']]
producer.flush(max(deadline.left(), 1))
delivered = []
for i, f in enumerate(futures):
    try:
        md = f.get(timeout=max(deadline.left(), 1))
        delivered.append([md.partition, md.offset])
    except Exception as e:  # noqa: BLE001 - reported to the test
        errors.append('message %d: %r' % (i, e))
        delivered.append(None)
producer.close(10)

consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **base)
tps = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(tps)
beginnings = consumer.beginning_offsets(tps)
ends_by_tp = consumer.end_offsets(tps)
watermarks = [[beginnings[tp], ends_by_tp[tp]] for tp in tps]
ends = [ends_by_tp[tp] for tp in tps]


def consume_from(starts):
    """Consumes every partition from starts[p] until it reaches its end offset (or the deadline)."""
    for p, tp in enumerate(tps):
        consumer.seek(tp, starts[p])
    position = list(starts)
    records = []
    while any(position[p] < ends[p] for p in range(partitions)) and not deadline.passed():
        for tp, msgs in consumer.poll(timeout_ms=1000, max_records=2000).items():
            for m in msgs:
                records.append(rec(m.partition, m.offset, m.timestamp, m.key, m.value, m.headers))
                position[m.partition] = m.offset + 1
    return records


records = consume_from([0] * partitions)
offset_seek = consume_from(spec['seekOffsets'])
found = consumer.offsets_for_times({tp: spec['seekTimestamp'] for tp in tps})
time_offsets = [-1 if found[tp] is None else found[tp].offset for tp in tps]
time_seek = consume_from([ends[p] if o < 0 else o for p, o in enumerate(time_offsets)])
consumer.close()
emit({'errors': errors, 'delivered': delivered, 'watermarks': watermarks, 'records': records,
      'offsetSeek': offset_seek, 'timeOffsets': time_offsets, 'timeSeek': time_seek})
