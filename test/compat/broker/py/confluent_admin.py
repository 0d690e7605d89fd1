"""confluent-kafka-python AdminClient against the samsa broker, topic administration end to end: create
user_activity with 3 partitions, describe it, add partitions (to 5), alter and describe its configs, ask for a
replication factor the cluster cannot give, delete the topic. Prints what each step returned."""
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from common import emit, read_spec

spec = read_spec()
topic = spec['topic']
admin = AdminClient({'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-compat-confluent-admin'})
out = {}


def outcome(future):
    """None on success, else [error name, error string] of the KafkaError."""
    try:
        future.result(timeout=30)
        return None
    except KafkaException as e:
        err = e.args[0]
        return [err.name(), err.str()]


def partitions_of(name):
    t = admin.list_topics(timeout=30).topics.get(name)  # all topics: asking for one could itself create it
    return None if t is None else sorted(t.partitions)


out['create'] = outcome(admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic])
out['partitionsAfterCreate'] = partitions_of(topic)
out['createAgain'] = outcome(admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic])
out['addPartitions'] = outcome(admin.create_partitions([NewPartitions(topic, 5)])[topic])
out['partitionsAfterAdd'] = partitions_of(topic)
resource = ConfigResource('topic', topic, set_config={'retention.ms': '3600000'})
out['alterConfigs'] = outcome(admin.alter_configs([resource])[resource])
described = admin.describe_configs([ConfigResource('topic', topic)])
configs = list(described.values())[0].result(timeout=30)
out['configs'] = {name: [e.value, e.source, e.is_default, e.is_read_only] for name, e in configs.items()}
rf = spec['badTopic']
out['replicationFactor3'] = outcome(admin.create_topics([NewTopic(rf, num_partitions=3, replication_factor=3)])[rf])
out['badTopicListed'] = partitions_of(rf) is not None
out['delete'] = outcome(admin.delete_topics([topic])[topic])
out['listedAfterDelete'] = partitions_of(topic) is not None
out['deleteAgain'] = outcome(admin.delete_topics([topic])[topic])
emit(out)
