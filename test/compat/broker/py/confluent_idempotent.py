"""confluent-kafka-python (librdkafka) as an idempotent producer on the samsa broker: enable.idempotence=true,
acks=all, up to 5 requests in flight, small batches so that there are many. Produces `count` messages in order,
key `k<i % keys>` and value `<i>`, partitioned by librdkafka from the key, then flushes. Prints every delivery report
as [partition, offset] (or the error string) by message index, and the errors librdkafka raised, fatal ones
included (as [message, fatal]). The test checks the log itself."""
from confluent_kafka import Producer

from common import Deadline, emit, read_spec

spec = read_spec()
deadline = Deadline(spec['deadlineSeconds'])
errors = []


def on_error(err):
    errors.append([str(err), err.fatal()])


producer = Producer({
    'bootstrap.servers': spec['bootstrap'],
    'client.id': 'samsa-compat-idempotent',
    'enable.idempotence': True,
    'acks': 'all',
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': 2,
    'batch.num.messages': spec.get('batchMessages', 50),
    'message.timeout.ms': int(spec['deadlineSeconds'] * 1000),
    'retry.backoff.ms': 20,
    # The fault test breaks connections on purpose: reconnect at once rather than backing off for seconds.
    'reconnect.backoff.ms': 10,
    'reconnect.backoff.max.ms': 100,
    'error_cb': on_error,
    **({'debug': spec['debug']} if spec.get('debug') else {}),
})
count = spec['count']
keys = spec['keys']
delivered = [None] * count


def report_for(i):
    def report(err, msg):
        delivered[i] = str(err) if err is not None else [msg.partition(), msg.offset()]
    return report


for i in range(count):
    while True:
        try:
            producer.produce(spec['topic'], key=f'k{i % keys}'.encode(), value=str(i).encode(), on_delivery=report_for(i))
            break
        except BufferError:
            producer.poll(0.01)
    if i % 500 == 0:
        producer.poll(0)
left = producer.flush(max(deadline.left(), 1))
emit({'delivered': delivered, 'left': left, 'errors': errors[:20]})
