"""A kafka-python KafkaConsumer group member driven by the test over stdin, reporting as JSON lines: the same
protocol as confluent_group_member.py (spec on the first stdin line, then `nocommit` / `close` commands; prints
assign/revoke, msgs, commit, nocommit, error and closed events). kafka-python's rebalance listener reports full
(eager) assignments; each polled batch is committed synchronously (commit() raises CommitFailedError when the
group refuses it)."""
import json
import sys
import threading

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

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
owned = set()


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        ps = sorted(tp.partition for tp in revoked if tp.topic == topic)
        owned.difference_update(ps)
        out({'ev': 'revoke', 'partitions': ps, 'owned': sorted(owned)})

    def on_partitions_assigned(self, assigned):
        ps = sorted(tp.partition for tp in assigned if tp.topic == topic)
        owned.update(ps)
        out({'ev': 'assign', 'partitions': ps, 'owned': sorted(owned)})


consumer = KafkaConsumer(
    bootstrap_servers=spec['bootstrap'],
    client_id=spec['name'],
    enable_auto_commit=False,
    auto_offset_reset='earliest',
    **spec['config'])
consumer.subscribe([topic], listener=Listener())
commit = True
while not deadline.passed():
    if 'close' in commands:
        break
    if commit and 'nocommit' in commands:
        commit = False
        out({'ev': 'nocommit'})
    batch = {}
    recs = []
    for tp, records in consumer.poll(timeout_ms=200, max_records=200).items():
        for r in records:
            recs.append([tp.partition, r.offset])
            batch[tp.partition] = r.offset + 1
    if recs:
        out({'ev': 'msgs', 'recs': recs})
    if batch and commit:
        try:
            consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, None) for p, o in batch.items()})
            out({'ev': 'commit', 'ok': sorted([p, o] for p, o in batch.items()), 'failed': []})
        except KafkaError as e:
            out({'ev': 'commit', 'ok': [], 'failed': [[p, o, repr(e)] for p, o in sorted(batch.items())]})
consumer.close()
out({'ev': 'closed'})
