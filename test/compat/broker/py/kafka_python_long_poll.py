"""kafka-python long poll against the samsa broker: a consumer with a very long fetch_max_wait_ms reads the one
message in partition 0, then waits at the end of the log; one more message is produced while its fetch waits.
Prints the records the consumer got. The script's deadline is far below fetch_max_wait_ms, so the second record
can only arrive in time if the broker answers the waiting fetch when the message is appended."""
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from common import Deadline, emit, read_spec, rec

spec = read_spec()
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap_servers': spec['bootstrap'], 'client_id': 'samsa-compat-kafka-python'}
producer = KafkaProducer(acks='all', **base)
errors = []


def produce(value):
    try:
        producer.send(topic, partition=0, key=b'long-poll', value=value).get(timeout=max(deadline.left(), 1))
    except Exception as e:  # noqa: BLE001 - reported to the test
        errors.append('produce %s: %r' % (value, e))


def poll_one(seconds):
    for msgs in consumer.poll(timeout_ms=int(seconds * 1000), max_records=1).values():
        for m in msgs:
            return rec(m.partition, m.offset, m.timestamp, m.key, m.value, m.headers)
    return None


produce(b'before the wait')
consumer = KafkaConsumer(
    group_id=None,
    enable_auto_commit=False,
    fetch_max_wait_ms=spec['fetchWaitMs'],
    fetch_min_bytes=1,
    request_timeout_ms=spec['fetchWaitMs'] + 60000,
    connections_max_idle_ms=spec['fetchWaitMs'] + 120000,
    **base,
)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek(tp, 0)
first = None
while first is None and not deadline.passed():
    first = poll_one(min(1.0, max(deadline.left(), 0.01)))
# Polling on sends the next fetch, which waits at the broker (there is nothing to read) while this second passes.
idle = poll_one(1.0)
produce(b'produced while the fetch waits')
second = None
while second is None and not deadline.passed():
    second = poll_one(min(1.0, max(deadline.left(), 0.01)))
consumer.close()
producer.close(10)
emit({'errors': errors, 'first': first, 'idle': idle, 'second': second})
