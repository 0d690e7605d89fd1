"""confluent-kafka-python and topic auto-creation on the samsa broker: produce one message to a topic that does not
exist, then list the topic's metadata. Prints the delivery report and the partitions the metadata shows."""
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from common import Deadline, emit, read_spec

spec = read_spec()
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-compat-confluent'}
producer = Producer(dict(base, **{'acks': 'all', 'enable.idempotence': False, 'partitioner': 'murmur2_random'}))
delivered = []


def report(err, msg):
    delivered.append(str(err) if err is not None else [msg.partition(), msg.offset()])


producer.produce(topic, key=b'auto', value=b'created on first use', on_delivery=report)
producer.flush(max(deadline.left(), 1))
metadata = AdminClient(base).list_topics(timeout=30)  # all topics: asking for one could itself create it
t = metadata.topics.get(topic)
emit({
    'delivered': delivered,
    'error': None if t is None or t.error is None else str(t.error),
    'partitions': None if t is None else sorted(
        [p.id, p.leader, list(p.replicas), list(p.isrs)] for p in t.partitions.values()),
    'brokers': sorted(b.id for b in metadata.brokers.values()),
})
