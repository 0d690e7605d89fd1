"""kafka-python and topic auto-creation on the samsa broker: produce one message to a topic that does not exist,
then read the topic's partitions from the cluster metadata. Prints the delivery report and the partitions."""
from kafka import KafkaConsumer, KafkaProducer

from common import Deadline, emit, read_spec

spec = read_spec()
topic = spec['topic']
deadline = Deadline(spec['deadlineSeconds'])
base = {'bootstrap_servers': spec['bootstrap'], 'client_id': 'samsa-compat-kafka-python'}
producer = KafkaProducer(acks='all', **base)
md = producer.send(topic, key=b'auto', value=b'created on first use').get(timeout=max(deadline.left(), 1))
producer.close(10)
consumer = KafkaConsumer(group_id=None, **base)
parts = consumer.partitions_for_topic(topic)
topics = consumer.topics()
consumer.close()
emit({'delivered': [md.partition, md.offset], 'partitions': None if parts is None else sorted(parts),
      'listed': topic in topics})
