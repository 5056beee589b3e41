import { HubContext, sliceLoaders } from '../../server/hub.context';
import { recordsByMinor } from '../shared/record-loaders';
import { CommunityCorrection } from './entities/community-correction.entity';
import { IncarceratedParent } from './entities/incarcerated-parent.entity';
import { LegalAidCase } from './entities/legal-aid-case.entity';

/** One loader per relation, one statement per batch; newest first. */
function createJusticeLoaders(ctx: HubContext) {
  return {
    parentsByMinor: recordsByMinor(ctx, IncarceratedParent, [['since', 'DESC']]),
    correctionsByMinor: recordsByMinor(ctx, CommunityCorrection, [['startedOn', 'DESC']]),
    legalAidByMinor: recordsByMinor(ctx, LegalAidCase, [['openedOn', 'DESC']]),
  };
}

export const justiceLoaders = (ctx: HubContext) => sliceLoaders(ctx, 'justice', createJusticeLoaders);
