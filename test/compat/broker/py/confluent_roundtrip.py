"""confluent-kafka-python against the samsa broker: create the topic with AdminClient, produce the spec's keyed
messages with one codec and the Java murmur2 partitioner, consume every partition back from offset 0 with manual
assignment, then seek to an offset and to a timestamp (offsets_for_times) and consume from there. Prints delivery
reports, watermarks and records."""
import ctypes

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from common import Deadline, b, emit, headers_in, read_spec, rec

spec = read_spec()
topic = spec['topic']
partitions = spec['partitions']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-compat-confluent'}
errors = []
try:
    new_topic = NewTopic(topic, num_partitions=partitions, replication_factor=1)
    admin = AdminClient(base)  # kept referenced until the result is in
    admin.create_topics([new_topic])[topic].result(30)
except KafkaException as e:
    errors.append('create_topics: %s' % e)

producer = Producer(dict(base, **{
    'partitioner': 'murmur2_random',
    'compression.type': spec['codec'],
    'acks': 'all',
    'enable.idempotence': False,
    'linger.ms': 20,
    'message.timeout.ms': int(spec['deadlineSeconds'] * 1000),
}))
delivered = [None] * len(spec['messages'])


def on_delivery(i):
    def report(err, msg):
        if err is not None:
            errors.append('message %d: %s' % (i, err))
        else:
            delivered[i] = [msg.partition(), msg.offset()]
    return report


for i, m in enumerate(spec['messages']):
    producer.produce(topic, key=b(m['key']), value=b(m['value']), headers=headers_in(m), timestamp=m['timestamp'],
                     on_delivery=on_delivery(i))
    producer.poll(0)
left = producer.flush(max(deadline.left(), 1))
if left:
    errors.append('%d messages not delivered' % left)

consumer = Consumer(dict(base, **{
    'group.id': 'samsa-compat-unused',  # never joined: partitions are assigned by hand
    'enable.auto.commit': False,
    'enable.auto.offset.store': False,
}))
watermarks = [list(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)) for p in range(partitions)]
ends = [hi for _, hi in watermarks]


def headers_of(m):
    """m.headers(), working around confluent-kafka-python < 1.8.2 (issue #1191): Message.headers() returns a None
    header value without taking a reference to None, so each one read drops None's refcount by one and the
    interpreter eventually aborts ("deallocating None"). Take the missing references."""
    headers = m.headers()
    for _, v in headers or []:
        if v is None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return headers


def consume_from(starts):
    """Consumes every partition from starts[p] until it reaches its high watermark (or the deadline)."""
    consumer.assign([TopicPartition(topic, p, starts[p]) for p in range(partitions)])
    position = list(starts)
    records = []
    while any(position[p] < ends[p] for p in range(partitions)) and not deadline.passed():
        for m in consumer.consume(num_messages=1000, timeout=min(1.0, max(deadline.left(), 0.01))):
            if m.error() is not None:
                errors.append('consume: %s' % m.error())
                continue
            records.append(rec(m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(), headers_of(m)))
            position[m.partition()] = m.offset() + 1
    consumer.unassign()
    return records


records = consume_from([0] * partitions)
offset_seek = consume_from(spec['seekOffsets'])
found = consumer.offsets_for_times([TopicPartition(topic, p, spec['seekTimestamp']) for p in range(partitions)],
                                   timeout=30)
time_offsets = [tp.offset for tp in sorted(found, key=lambda tp: tp.partition)]
for tp in found:
    if tp.error is not None:
        errors.append('offsets_for_times: %s' % tp.error)
time_seek = consume_from([ends[p] if o < 0 else o for p, o in enumerate(time_offsets)])
consumer.close()
emit({'errors': errors, 'delivered': delivered, 'watermarks': watermarks, 'records': records,
      'offsetSeek': offset_seek, 'timeOffsets': time_offsets, 'timeSeek': time_seek})
