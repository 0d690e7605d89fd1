"""Throughput producer for the broker benchmark (bench/broker.ts): confluent-kafka-python (librdkafka).

Produces `count` messages of `size` bytes (no key, partition chosen round-robin) as fast as librdkafka accepts them,
as a plain or (spec `idempotence`) an idempotent producer, optionally with `maxInFlight` requests per connection,
stopping early after `seconds`, then flushes. Prints one JSON line: messages, bytes, seconds (from the first
produce() to the end of flush(), i.e. until every message was acknowledged), errors.
A warm-up message per partition is produced and flushed first, so connection and metadata set-up are not timed.
Run with /usr/bin/python3 (Debian's confluent_kafka): python3 produce.py '<json spec>'.
"""
import json
import sys
import time

from confluent_kafka import Producer


def main():
    spec = json.loads(sys.argv[1])
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    producer = Producer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-bench-produce',
        'acks': spec['acks'],
        'linger.ms': spec.get('lingerMs', 5),
        'batch.size': spec.get('batchSize', 1000000),
        'batch.num.messages': spec.get('batchMessages', 100000),
        'queue.buffering.max.messages': 2000000,
        'queue.buffering.max.kbytes': 1048576,
        'compression.type': 'none',
        # With idempotence librdkafka sends producer ids and sequences and keeps at most 5 requests in flight.
        'enable.idempotence': spec.get('idempotence', False),
        **({'max.in.flight.requests.per.connection': spec['maxInFlight']} if 'maxInFlight' in spec else {}),
        'socket.nagle.disable': True,
        'delivery.report.only.error': True,
        'message.timeout.ms': 60000,
        'on_delivery': on_delivery,
    })
    topic = spec['topic']
    partitions = spec['partitions']
    count = spec['count']
    value = b'x' * spec['size']
    produce = producer.produce
    poll = producer.poll

    for p in range(partitions):
        produce(topic, value, partition=p)
    if producer.flush(30) != 0 or errors:
        print(json.dumps({'error': 'warm-up failed', 'errors': errors[:5]}))
        sys.exit(1)

    start = time.perf_counter()
    deadline = start + spec['seconds']
    sent = 0
    p = 0
    while sent < count:
        try:
            produce(topic, value, partition=p)
        except BufferError:
            poll(0.001)
            continue
        sent += 1
        p += 1
        if p == partitions:
            p = 0
        if sent & 4095 == 0:
            poll(0)
            if time.perf_counter() > deadline:
                break
    left = producer.flush(120)
    elapsed = time.perf_counter() - start
    print(json.dumps({
        'messages': sent,
        'bytes': sent * spec['size'],
        'seconds': elapsed,
        'left': left,
        'errors': len(errors),
        'firstError': errors[0] if errors else None,
        'total': sent + partitions,
    }))
    sys.exit(0 if left == 0 and not errors else 1)


main()
