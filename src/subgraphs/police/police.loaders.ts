import DataLoader from 'dataloader';
import { queryByKeys } from '../../db/entity-reader';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { isUuid } from '../../common/uuid';
import { jurisdictionPattern } from '../registry/registry.loaders';
import { recordsByMinor } from '../shared/record-loaders';
import { GuardianAdmonishment } from './entities/guardian-admonishment.entity';
import { IdentityVerification } from './entities/identity-verification.entity';
import { PoliceIncident } from './entities/police-incident.entity';
import { ProtectionCaseStatus } from './entities/protection-case-status.type';

/** One loader per relation, one statement per batch; newest first for a caller who may read the dates (recordsByMinor). */
function createPoliceLoaders(ctx: HubContext) {
  return {
    incidentsByMinor: recordsByMinor(ctx, PoliceIncident, [['occurredOn', 'DESC']]),
    admonishmentsByMinor: recordsByMinor(ctx, GuardianAdmonishment, [['admonishedOn', 'DESC']]),
    verificationsByMinor: recordsByMinor(ctx, IdentityVerification, [['verifiedOn', 'DESC']]),
    /** Open (not CLOSED) incidents summarised per child, in one aggregate statement. */
    protectionCaseByMinor: new DataLoader<string, ProtectionCaseStatus>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows: { minor_id: string; open_since: string; contact_unit: string }[] = valid.length
        ? await queryByKeys(
            ctx.db,
            `SELECT i.minor_id, to_char(min(i.occurred_on), 'YYYY-MM-DD') AS open_since,
                    (array_agg(i.handling_unit ORDER BY i.occurred_on DESC, i.id))[1] AS contact_unit
             FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE $2
             WHERE i.minor_id = ANY($1) AND i.status <> 'CLOSED'
             GROUP BY i.minor_id`,
            [valid, jurisdictionPattern(ctx)],
          )
        : [];
      const byMinor = new Map(rows.map((r) => [r.minor_id, r]));
      return ids.map((minorId) => {
        const open = byMinor.get(minorId);
        return { minorId, hasOpenCase: !!open, contactUnit: open?.contact_unit ?? null, openSince: open?.open_since ?? null };
      });
    }),
  };
}

export const policeLoaders = (ctx: HubContext) => sliceLoaders(ctx, 'police', createPoliceLoaders);
