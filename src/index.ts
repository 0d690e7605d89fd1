export { Broker } from './broker/broker.js';
export { type StartBrokerOptions, type StartedBroker, startBroker } from './broker/start-broker.js';
export * from './client/index.js';
export * from './protocol/index.js';
