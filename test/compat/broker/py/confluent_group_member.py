"""A confluent-kafka-python (librdkafka) group member driven by the test over stdin, reporting as JSON lines.

The first stdin line is the spec: bootstrap, topic, name, deadlineSeconds and the consumer `config` (group.id,
partition.assignment.strategy, session.timeout.ms, group.instance.id, ...; offsets are never auto-committed). Later
lines are commands: `nocommit` (keep consuming, stop committing), `close` (Consumer.close() and exit). End of stdin
(the test is gone) and the deadline also close the consumer.

Printed, one JSON object a line, in the order they happen:
  {"ev": "assign"|"revoke"|"lost", "partitions": [...], "owned": [...]}  rebalance callbacks (incremental for
                                                                           cooperative-sticky, full sets for eager)
  {"ev": "msgs", "recs": [[partition, offset], ...]}                      a consumed batch
  {"ev": "commit", "ok": [[p, next offset], ...], "failed": [[p, next offset, error], ...]}
                                                                           the synchronous commit after that batch
  {"ev": "nocommit"}                                                       the nocommit command took effect
  {"ev": "error", "error": "..."}
  {"ev": "closed"}
"""
import json
import sys
import threading

from confluent_kafka import Consumer, KafkaException, TopicPartition

from common import Deadline

spec = json.loads(sys.stdin.readline())
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
lock = threading.Lock()
commands = []


def out(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()


def read_commands():
    for line in sys.stdin:
        commands.append(line.strip())
    commands.append('close')


threading.Thread(target=read_commands, daemon=True).start()

config = {
    'bootstrap.servers': spec['bootstrap'],
    'client.id': spec['name'],
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
    'error_cb': lambda e: out({'ev': 'error', 'error': str(e)}),
}
config.update(spec['config'])
consumer = Consumer(config)
owned = set()


def callback(kind):
    def cb(_consumer, partitions):
        ps = sorted(tp.partition for tp in partitions if tp.topic == topic)
        if kind == 'assign':
            owned.update(ps)
        else:
            owned.difference_update(ps)
        out({'ev': kind, 'partitions': ps, 'owned': sorted(owned)})
    return cb


consumer.subscribe([topic], on_assign=callback('assign'), on_revoke=callback('revoke'), on_lost=callback('lost'))
commit = True
while not deadline.passed():
    if 'close' in commands:
        break
    if commit and 'nocommit' in commands:
        commit = False
        out({'ev': 'nocommit'})
    batch = {}
    recs = []
    for m in consumer.consume(num_messages=200, timeout=0.2):
        if m.error() is not None:
            out({'ev': 'error', 'error': str(m.error())})
            continue
        recs.append([m.partition(), m.offset()])
        batch[m.partition()] = m.offset() + 1
    if recs:
        out({'ev': 'msgs', 'recs': recs})
    if batch and commit:
        offsets = [TopicPartition(topic, p, o) for p, o in sorted(batch.items())]
        try:
            result = consumer.commit(offsets=offsets, asynchronous=False)
            out({
                'ev': 'commit',
                'ok': [[tp.partition, tp.offset] for tp in result if tp.error is None],
                'failed': [[tp.partition, tp.offset, str(tp.error)] for tp in result if tp.error is not None],
            })
        except KafkaException as e:
            out({'ev': 'commit', 'ok': [], 'failed': [[p, o, str(e.args[0])] for p, o in sorted(batch.items())]})
consumer.close()
out({'ev': 'closed'})
