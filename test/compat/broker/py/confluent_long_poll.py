"""confluent-kafka-python long poll against the samsa broker: a consumer with a very long fetch.wait.max.ms reads the
one message in partition 0, then waits at the end of the log; one more message is produced while its fetch waits.
Prints the records the consumer got. The script's deadline is far below fetch.wait.max.ms, so the second record
can only arrive in time if the broker answers the waiting fetch when the message is appended."""
from confluent_kafka import Consumer, Producer, TopicPartition

from common import Deadline, emit, read_spec, rec

spec = read_spec()
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-compat-confluent'}
producer = Producer(dict(base, **{'acks': 'all', 'enable.idempotence': False, 'linger.ms': 0}))
errors = []


def produce(value):
    def report(err, msg):
        if err is not None:
            errors.append('produce %s: %s' % (value, err))
    producer.produce(topic, partition=0, key=b'long-poll', value=value, on_delivery=report)
    producer.flush(max(deadline.left(), 1))


def poll_one(seconds):
    m = consumer.poll(seconds)
    if m is None:
        return None
    if m.error() is not None:
        errors.append('consume: %s' % m.error())
        return None
    return rec(m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers())


produce(b'before the wait')
consumer = Consumer(dict(base, **{
    'group.id': 'samsa-compat-unused',
    'enable.auto.commit': False,
    'fetch.wait.max.ms': spec['fetchWaitMs'],
    'socket.timeout.ms': 300000,
    'fetch.min.bytes': 1,
}))
consumer.assign([TopicPartition(topic, 0, 0)])
first = None
while first is None and not deadline.passed():
    first = poll_one(min(1.0, max(deadline.left(), 0.01)))
# The consumer fetches again right after the first record; this second of polling lets that fetch reach the broker
# and wait there (there is nothing to read).
idle = poll_one(1.0)
produce(b'produced while the fetch waits')
second = None
while second is None and not deadline.passed():
    second = poll_one(min(1.0, max(deadline.left(), 0.01)))
consumer.close()
emit({'errors': errors, 'first': first, 'idle': idle, 'second': second})
