import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Department } from '../../../auth/principal';

/** A department system that receives its notifications by signed HTTP POST. */
@ObjectType({ description: 'A department system receiving notifications by signed POST (HMAC-SHA256)' })
@Entity({ schema: 'workflow', name: 'webhook' })
export class Webhook {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  department: Department;

  @Field(() => String, { nullable: true, description: 'Notifications for this region’s subtree are delivered' })
  @Column({ type: 'varchar', length: 15, name: 'region_code' })
  regionCode: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  url: string;

  /** Signing key, shown once at registration and never read back through the API. */
  @Column({ type: 'text' })
  secret: string;

  @Field(() => Boolean, { nullable: true })
  @Column({ type: 'boolean' })
  active: boolean;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

/** One notification on its way to one webhook: attempts with exponential back-off, bounded. */
@Entity({ schema: 'workflow', name: 'webhook_delivery' })
export class WebhookDelivery {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'webhook_id' })
  webhookId: string;

  @Column({ type: 'uuid', name: 'notification_id' })
  notificationId: string;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  @Column({ type: 'int' })
  attempts: number;

  @Column({ type: 'timestamptz', name: 'next_attempt_at' })
  nextAttemptAt: Date;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', name: 'delivered_at', nullable: true })
  deliveredAt: Date | null;
}

@ObjectType({ description: 'A new webhook and its signing secret, shown this once' })
export class WebhookRegistration {
  /**
   * The new webhook's id, not a GraphQL field (clients read `webhook { id }`): the audit takes the
   * record id of a mutation's change from the result's `id` (policy.middleware.ts), so without it
   * the registration was audited with `id: null`.
   */
  id: string;

  @Field(() => Webhook)
  webhook: Webhook;

  @Field({ description: 'Key of the HMAC-SHA256 in the x-hub-signature header; not retrievable later' })
  secret: string;

  @Field(() => Int, { description: 'Delivery attempts per notification before it is given up' })
  maxAttempts: number;
}
