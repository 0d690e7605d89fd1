"""confluent-kafka-python (librdkafka) on the other side of samsa's Producer (../producer-interop.test.ts).

Reads a spec as JSON on stdin and prints one JSON object (see ../../broker/py/common.py for the conventions):
- {"mode": "consume", "topic", "partitions"}: consumes every partition from offset 0 to its high watermark with
  manual assignment and prints the records;
- {"mode": "produce-keys", "topic", "keys"}: produces one message per key with librdkafka's murmur2_random
  partitioner and prints the partition of each delivery report.
"""
import ctypes
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'broker', 'py'))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from common import Deadline, b, emit, read_spec, rec  # noqa: E402

spec = read_spec()
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-compat-producer-peer'}
errors = []


def headers_of(m):
    """m.headers(), taking the references to None that confluent-kafka-python < 1.8.2 forgets (issue #1191)."""
    headers = m.headers()
    for _, v in headers or []:
        if v is None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return headers


if spec['mode'] == 'consume':
    partitions = spec['partitions']
    consumer = Consumer(dict(base, **{
        'group.id': 'samsa-compat-unused',  # never joined: partitions are assigned by hand
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
    }))
    ends = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(partitions)]
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    position = [0] * partitions
    records = []
    while any(position[p] < ends[p] for p in range(partitions)) and not deadline.passed():
        for m in consumer.consume(num_messages=1000, timeout=min(1.0, max(deadline.left(), 0.01))):
            if m.error() is not None:
                errors.append('consume: %s' % m.error())
                continue
            records.append(rec(m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(), headers_of(m)))
            position[m.partition()] = m.offset() + 1
    consumer.close()
    emit({'errors': errors, 'ends': ends, 'records': records})
else:
    producer = Producer(dict(base, **{'partitioner': 'murmur2_random', 'linger.ms': 5, 'acks': 'all',
                                      'enable.idempotence': False}))
    partitions = [None] * len(spec['keys'])

    def on_delivery(i):
        def report(err, msg):
            if err is not None:
                errors.append('message %d: %s' % (i, err))
            else:
                partitions[i] = msg.partition()
        return report

    for i, k in enumerate(spec['keys']):
        producer.produce(topic, key=b(k), value=b'x', on_delivery=on_delivery(i))
        producer.poll(0)
    left = producer.flush(max(deadline.left(), 1))
    if left:
        errors.append('%d messages not delivered' % left)
    emit({'errors': errors, 'partitions': partitions})
