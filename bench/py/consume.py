"""Throughput consumer for the broker benchmark (bench/broker.ts): confluent-kafka-python (librdkafka).

Assigns every partition of `topic` from offset 0 (no consumer group is joined, nothing is committed) and reads until
`count` messages have arrived. The clock starts after the connection and metadata are set up (list_topics) and
stops at the last message. Prints one JSON line: messages, bytes (sum of value lengths), seconds, errors.
Run with /usr/bin/python3 (Debian's confluent_kafka): python3 consume.py '<json spec>'.
"""
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    spec = json.loads(sys.argv[1])
    consumer = Consumer({
        'bootstrap.servers': spec['bootstrap'],
        'client.id': 'samsa-bench-consume',
        'group.id': 'samsa-bench',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': False,
        'fetch.wait.max.ms': spec.get('fetchWaitMs', 10),
        'fetch.min.bytes': 1,
        'fetch.max.bytes': 52428800,
        'max.partition.fetch.bytes': spec.get('partitionFetchBytes', 8388608),
        'receive.message.max.bytes': 52428800 + 65536,
        'queued.max.messages.kbytes': 262144,
        'queued.min.messages': 1000000,
        'socket.nagle.disable': True,
    })
    topic = spec['topic']
    count = spec['count']
    consumer.list_topics(topic, timeout=10)
    start = time.perf_counter()
    consumer.assign([TopicPartition(topic, p, 0) for p in range(spec['partitions'])])
    deadline = start + spec.get('timeout', 60)
    n = 0
    size = 0
    errors = []
    consume = consumer.consume
    while n < count:
        msgs = consume(10000, 0.5)
        for m in msgs:
            if m.error() is not None:
                errors.append(str(m.error()))
                continue
            n += 1
            size += len(m.value())
        if time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    consumer.close()
    print(json.dumps({
        'messages': n,
        'bytes': size,
        'seconds': elapsed,
        'errors': len(errors),
        'firstError': errors[0] if errors else None,
    }))
    sys.exit(0 if n >= count and not errors else 1)


main()
