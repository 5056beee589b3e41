import { Field, ObjectType } from 'type-graphql';

/**
 * Whether the police have an open case protecting the child, and whom to contact — what schools
 * and the other departments need, without the incident's type or narrative. Derived from the
 * child's open incidents.
 */
@ObjectType({ description: 'Open police protection case: yes/no and the contact unit, no incident detail' })
export class ProtectionCaseStatus {
  /** For the audit trail: whose record this is (not a GraphQL field). */
  minorId: string;

  @Field(() => Boolean, { nullable: true })
  hasOpenCase: boolean;

  @Field(() => String, { nullable: true, description: 'Handling unit of the latest open incident' })
  contactUnit: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD of the earliest open incident' })
  openSince: string | null;
}
