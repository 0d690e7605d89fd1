"""End-to-end latency for the broker benchmark (bench/broker.ts): confluent-kafka-python (librdkafka).

Two processes on one machine, started by the benchmark:
  latency.py consume '<spec>'  assigns partition 0 from offset 0, prints "ready", then for every message computes
                               time.time() at receipt minus the send time embedded in the message; after the last
                               message prints the percentiles (ms) of the messages past the warm-up as JSON.
  latency.py produce '<spec>'  sends `rate` messages a second of `size` bytes (acks as given, linger.ms=0) for
                               `warmup` + `seconds` seconds, paced against absolute send times; each message starts
                               with its send time (time.time(), a double) and its sequence number.
time.time() is the system's real-time clock, the same for both processes, so the difference is comparable across
them (resolution well under a microsecond); two processes keep the producer's pacing and the consumer's receipt
from contending for one interpreter lock. Nagle is disabled on both clients.
"""
import json
import struct
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

HEAD = struct.Struct('>dq')


def consume(spec):
    consumer = Consumer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-bench-latency-consume',
        'group.id': 'samsa-bench-latency',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': False,
        'fetch.wait.max.ms': spec.get('fetchWaitMs', 100),
        'fetch.min.bytes': 1,
        'socket.nagle.disable': True,
    })
    topic = spec['topic']
    total = int(spec['rate'] * (spec['warmup'] + spec['seconds']))
    skip = int(spec['rate'] * spec['warmup'])
    consumer.list_topics(topic, timeout=10)
    consumer.assign([TopicPartition(topic, 0, 0)])
    consumer.poll(0.3)
    print('ready', flush=True)
    deadline = time.time() + spec['warmup'] + spec['seconds'] + 30
    lat = []
    seen = 0
    last = -1
    poll = consumer.poll
    while last < total - 1 and time.time() < deadline:
        m = poll(0.2)
        if m is None:
            continue
        now = time.time()
        if m.error() is not None:
            continue
        sent, seq = HEAD.unpack_from(m.value())
        seen += 1
        last = seq
        if seq >= skip:
            lat.append(now - sent)
    consumer.close()
    lat.sort()
    n = len(lat)

    def pct(q):
        return lat[min(n - 1, max(0, int(q * n + 0.999999) - 1))] * 1000 if n else None

    print(json.dumps({
        'messages': seen,
        'measured': n,
        'p50': pct(0.5),
        'p99': pct(0.99),
        'p999': pct(0.999),
        'max': lat[-1] * 1000 if n else None,
        'mean': sum(lat) / n * 1000 if n else None,
    }), flush=True)


def produce(spec):
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    producer = Producer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-bench-latency-produce',
        'acks': spec['acks'],
        'linger.ms': 0,
        'compression.type': 'none',
        'enable.idempotence': False,
        'socket.nagle.disable': True,
        'delivery.report.only.error': True,
        'on_delivery': on_delivery,
    })
    topic = spec['topic']
    rate = spec['rate']
    total = int(rate * (spec['warmup'] + spec['seconds']))
    pad = b'x' * (spec['size'] - HEAD.size)
    producer.list_topics(topic, timeout=10)
    interval = 1.0 / rate
    start = time.time() + 0.01
    sleep = time.sleep
    now = time.time
    pack = HEAD.pack
    for i in range(total):
        d = start + i * interval - now()
        if d > 0:
            sleep(d)
        producer.produce(topic, pack(now(), i) + pad, partition=0)
        producer.poll(0)
    elapsed = now() - start
    left = producer.flush(30)
    print(json.dumps({'messages': total, 'rate': total / elapsed, 'left': left, 'errors': len(errors)}), flush=True)


if __name__ == '__main__':
    {'consume': consume, 'produce': produce}[sys.argv[1]](json.loads(sys.argv[2]))
