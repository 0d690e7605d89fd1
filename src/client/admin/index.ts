/** The Admin client's public surface: the class, its error for batch calls, and its types. */

export { Admin } from './admin.js';
export { type ItemFailure, KafkaAdminError } from './errors.js';
export type * from './types.js';
