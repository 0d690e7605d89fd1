"""kafka-python KafkaAdminClient against the samsa broker: create a topic with 3 partitions, list and describe it,
add partitions, alter and describe its configs, ask for a replication factor the cluster cannot give, delete the
topic. Prints what each step returned."""
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic

from common import emit, read_spec

spec = read_spec()
topic = spec['topic']
admin = KafkaAdminClient(bootstrap_servers=spec['bootstrap'], client_id='samsa-compat-kafka-python-admin')
out = {}


def outcome(f):
    """[error code, error message] of each topic in the response, or the error raised as [class name, str]."""
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 - reported to the test
        return [type(e).__name__, str(e)]
    errs = getattr(r, 'topic_errors', None) or getattr(r, 'topic_error_codes', None) or []
    return [list(e[1:]) for e in errs]


def partitions_of(name):
    for t in admin.describe_topics([name]):
        if t['topic'] == name and t['error_code'] == 0:
            return sorted(p['partition'] for p in t['partitions'])
    return None


def describe(name):
    r = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])[0]
    res = r.resources[0]
    return {'error': [res[0], res[1]], 'configs': {e[0]: [e[1], e[2], e[3]] for e in res[4]}}


out['create'] = outcome(lambda: admin.create_topics([NewTopic(topic, 3, 1)]))
out['listed'] = topic in admin.list_topics()
out['partitionsAfterCreate'] = partitions_of(topic)
out['addPartitions'] = outcome(lambda: admin.create_partitions({topic: NewPartitions(5)}))
out['partitionsAfterAdd'] = partitions_of(topic)
try:
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': '3600000'})
    altered = admin.alter_configs([resource])
    out['alterConfigs'] = [[r[0], r[1]] for r in altered.resources]  # (error code, message, type, name)
except Exception as e:  # noqa: BLE001 - reported to the test
    out['alterConfigs'] = [type(e).__name__, str(e)]
out['describeConfigs'] = describe(topic)
out['replicationFactor3'] = outcome(lambda: admin.create_topics([NewTopic(spec['badTopic'], 3, 3)]))
out['badTopicListed'] = spec['badTopic'] in admin.list_topics()
out['delete'] = outcome(lambda: admin.delete_topics([topic]))
out['listedAfterDelete'] = topic in admin.list_topics()
admin.close()
emit(out)
