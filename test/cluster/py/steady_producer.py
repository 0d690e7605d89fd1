"""A steady acks=all load from confluent-kafka-python (librdkafka) for the cluster fault tests: an idempotent
producer writes messages at a fixed rate, value = a sequence number counting up from `seqBase` (each unique), key
`k<seq % keys>` so that librdkafka's partitioner spreads them over the partitions, and prints one JSON line per
event as it happens:

  {"p": partition, "o": offset, "v": seq, "s": sent at, "t": acknowledged at}   a delivery report
  {"v": seq, "e": error, "s": ..., "t": ...}                                       a failed delivery
  {"err": message, "fatal": bool, "t": ...}                                        an error librdkafka raised
  {"done": true, "next": seq, "left": n, "fatal": message or null}                 the last line

`next` is one past the last sequence number handed to librdkafka. Times are wall-clock milliseconds (the test
compares them with Date.now()). The spec is JSON in argv[1]: bootstrap, topic, rate (messages/s), keys, seqBase,
deadlineSeconds, flushSeconds. It stops producing when its stdin closes (the test closes it, or the test process
died), at the deadline, or when librdkafka reports a fatal error; then flushes for at most `flushSeconds` and
prints the last line.
"""
import json
import sys
import threading
import time

from confluent_kafka import KafkaException, Producer

spec = json.loads(sys.argv[1])
stop = threading.Event()


def watch_stdin():
    # EOF (or any input) means stop; a test that dies closes the pipe, so this process never outlives it.
    sys.stdin.read()
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
out = []
fatal = None


def now_ms():
    return int(time.time() * 1000)


def on_error(err):
    global fatal
    out.append(json.dumps({'err': str(err), 'fatal': err.fatal(), 't': now_ms()}))
    if err.fatal():
        fatal = str(err)


producer = Producer({
    'bootstrap.servers': spec['bootstrap'],
    'client.id': 'samsa-fault-steady',
    'enable.idempotence': True,
    'acks': 'all',
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': 5,
    'batch.num.messages': 100,
    # Nothing may fail for good while brokers come and go: the test asserts every message is delivered.
    'message.timeout.ms': int(spec['deadlineSeconds'] * 1000),
    # A request to a frozen broker is given up after 5 s and retried on the new leader. librdkafka times an
    # in-flight ProduceRequest out after the first message's remaining message.timeout.ms capped by
    # socket.timeout.ms (60 s by default); request.timeout.ms is only the time the broker may wait for acks=all.
    'socket.timeout.ms': 5000,
    'request.timeout.ms': 5000,
    'retry.backoff.ms': 50,
    'reconnect.backoff.ms': 20,
    'reconnect.backoff.max.ms': 500,
    'topic.metadata.refresh.interval.ms': 2000,
    'error_cb': on_error,
    **({'debug': spec['debug']} if spec.get('debug') else {}),
})


def report(seq, sent):
    def done(err, msg):
        if err is None:
            out.append(json.dumps({'p': msg.partition(), 'o': msg.offset(), 'v': seq, 's': sent, 't': now_ms()}))
        else:
            out.append(json.dumps({'v': seq, 'e': str(err), 's': sent, 't': now_ms()}))
    return done


def drain():
    if out:
        sys.stdout.write('\n'.join(out) + '\n')
        sys.stdout.flush()
        out.clear()


topic = spec['topic']
rate = spec['rate']
keys = spec['keys']
deadline = time.monotonic() + spec['deadlineSeconds']
start = time.monotonic()
base = spec.get('seqBase', 0)
seq = base
try:
    while not stop.is_set() and fatal is None and time.monotonic() < deadline:
        due = base + int((time.monotonic() - start) * rate)
        while seq < due and not stop.is_set():
            sent = now_ms()
            try:
                producer.produce(topic, key=f'k{seq % keys}'.encode(), value=str(seq).encode(),
                                 on_delivery=report(seq, sent))
                seq += 1
            except BufferError:
                break
        producer.poll(0.01)
        drain()
except KafkaException as e:
    # A fatal error surfaces here (from poll) as well as through error_cb.
    if fatal is None:
        fatal = str(e)
try:
    left = producer.flush(spec.get('flushSeconds', 30))
except KafkaException as e:
    fatal = fatal or str(e)
    left = len(producer)
drain()
sys.stdout.write(json.dumps({'done': True, 'next': seq, 'left': left, 'fatal': fatal}) + '\n')
sys.stdout.flush()
