/** Broker and topic configuration: loading, validation and DescribeConfigs answers. */
export {
  type BrokerConfig,
  type ConfigEntry,
  ConfigError,
  type ConfigSource,
  type ListenerConfig,
  type LoadOptions,
  loadBrokerConfig,
} from './broker-config.js';
export { BROKER_CONFIG_NAMES } from './broker-definitions.js';
export { PropertiesSyntaxError, parseProperties } from './properties.js';
export {
  type ConfigEntryDescription,
  describeBrokerConfigs,
  describeTopicConfigs,
  TOPIC_CONFIG_NAMES,
  type TopicSettings,
  topicSettings,
  validateTopicConfigs,
} from './topic-config.js';
