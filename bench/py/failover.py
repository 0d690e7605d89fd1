"""Fail-over writer for the cluster benchmark (bench/cluster.ts): confluent-kafka-python (librdkafka).

Writes one message at a time to one partition with acks=all as an idempotent producer: produce(), then poll until
its delivery report arrives, then the next. Prints one line per acknowledged message, `ack <sent> <acked>` (wall
clock in ms, time.time(), the clock Node's Date.now() reads), `err <sent> <text>` for a message that failed for
good, and a JSON summary when it stops (on SIGTERM). librdkafka retries a failed write itself (leader gone,
connection refused) and looks the leader up again; the settings that decide how fast are set below, not left to
the defaults, so that the benchmark can state them. Spec `debug` turns on librdkafka's debug log (on stderr), e.g.
'eos,topic,broker,msg' to see when it looks the leader up again.
Run with /usr/bin/python3 (Debian's confluent_kafka): python3 failover.py '<json spec>'.
"""
import json
import signal
import sys
import time

from confluent_kafka import Producer

stopping = False


def stop(_signum, _frame):
    global stopping
    stopping = True


def main():
    signal.signal(signal.SIGTERM, stop)
    spec = json.loads(sys.argv[1])
    state = {'done': False, 'error': None}

    def on_delivery(err, _msg):
        state['done'] = True
        state['error'] = err

    producer = Producer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-bench-failover',
        'acks': 'all',
        'enable.idempotence': True,
        'linger.ms': 0,
        'retry.backoff.ms': spec['retryBackoffMs'],
        'topic.metadata.refresh.fast.interval.ms': spec['metadataFastRefreshMs'],
        'reconnect.backoff.max.ms': spec['reconnectBackoffMaxMs'],
        'message.timeout.ms': spec['messageTimeoutMs'],
        'socket.nagle.disable': True,
        'on_delivery': on_delivery,
        **({'debug': spec['debug']} if 'debug' in spec else {}),
    })
    topic = spec['topic']
    partition = spec['partition']
    value = b'x' * spec['size']
    acked = 0
    failed = 0
    out = sys.stdout
    while not stopping:
        state['done'] = False
        sent = time.time() * 1000
        producer.produce(topic, value, partition=partition)
        while not state['done'] and not stopping:
            producer.poll(0.05)
        if not state['done']:
            break
        now = time.time() * 1000
        if state['error'] is None:
            acked += 1
            out.write(f'ack {sent:.3f} {now:.3f}\n')
        else:
            failed += 1
            out.write(f'err {sent:.3f} {state["error"]}\n')
        out.flush()
    producer.flush(5)
    out.write(json.dumps({'acked': acked, 'failed': failed}) + '\n')
    out.flush()


main()
