import { BigIntType, Entity, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { AccountOwned } from './account-owned';
import { EventSeverity, EventSource } from './enums';
import type { DockerActivity } from '../audit/docker-activity.entity';

/**
 * What DockerEvent and SwarmEvent share: Docker's actor, exact time, our severity, where the
 * event came from (the stream or a resync), and the activity that caused it. Both are stored by
 * src/platform/supervision/event-store.ts.
 */
@Entity({ abstract: true })
@ObjectType()
export abstract class StoredEvent extends AccountOwned {
  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  actorId!: string;

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  time!: Date;

  @Property({ type: new BigIntType('string') })
  @Field(() => String, { description: "Docker's timeNano, exact (nanoseconds since the epoch, decimal string)." })
  timeNano!: string;

  @Enum({ items: () => EventSeverity })
  @Field(() => EventSeverity)
  severity: EventSeverity = EventSeverity.INFO;

  @Enum({ items: () => EventSource })
  @Field(() => EventSource)
  source: EventSource = EventSource.STREAM;

  /**
   * The event's position in its host's (or cluster's) feed: 1, 2, 3, … with no gap, assigned when
   * it is stored (src/platform/supervision/event-store.ts). Subscriptions resume after it.
   */
  @Property({ type: new BigIntType('number') })
  seq!: number;

  @Field(() => String, { description: "The event's cursor in its host's (or cluster's) feed: pass it as `after` to a subscription to resume right after this event." })
  get cursor(): string {
    return String(this.seq);
  }

  /** The activity (mutation) that caused the event: same owner and target, within its time window. */
  @ManyToOne({ entity: 'DockerActivity', nullable: true, deleteRule: 'set null' })
  activity?: DockerActivity | null;
}
