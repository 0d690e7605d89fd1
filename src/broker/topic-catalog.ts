/**
 * The broker's metadata seen as the group coordinator's `TopicCatalog`: topic names, ids and partition counts, read
 * live at each call so that created topics, deleted topics and added partitions reach KIP-848 groups at their
 * members' next heartbeat.
 */
import type { TopicCatalog, TopicView } from '../coordinator/group/consumer/types.js';
import type { MetadataStore, TopicInfo } from '../metadata/types.js';

function view(t: TopicInfo | undefined): TopicView | undefined {
  return t === undefined
    ? undefined
    : { id: t.id, name: t.name, numPartitions: t.partitions.length, internal: t.internal };
}

export function topicCatalog(metadata: Pick<MetadataStore, 'topic' | 'topicById' | 'topics'>): TopicCatalog {
  return {
    byName: (name) => view(metadata.topic(name)),
    byId: (id) => view(metadata.topicById(id)),
    *all() {
      for (const t of metadata.topics()) yield view(t)!;
    },
  };
}
