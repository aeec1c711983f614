import { Type } from '@sinclair/typebox';
import { LIMITS } from '../../domain/validation.js';

const Names = (what: string, max: number, example: string) =>
  Type.Optional(
    Type.Array(Type.String({ maxLength: 300 }), {
      maxItems: max,
      description: `${what} (at most ${max} per version).`,
      examples: [[example]],
    }),
  );

/**
 * The lineage a version records: accepted by version creation and by `:recordLineage`. Kept
 * apart from the other lineage schemas so that schemas.ts can use it without an import cycle.
 */
export const LineageInput = Type.Object(
  {
    trained_on: Names(
      'Dataset versions the model was trained on',
      LIMITS.lineageTrainedOn,
      'namespaces/fraud/datasets/transactions/versions/3',
    ),
    evaluated_on: Names(
      'Dataset versions it was evaluated on',
      LIMITS.lineageEvaluatedOn,
      'namespaces/fraud/datasets/holdout/versions/1',
    ),
    produced_by: Type.Optional(
      Type.String({
        maxLength: 300,
        description: 'The run that produced it.',
        examples: ['namespaces/fraud/runs/train-0412'],
      }),
    ),
    derived_from: Names(
      'Parent model versions (fine-tuned from, distilled from…)',
      LIMITS.lineageDerivedFrom,
      'namespaces/fraud/models/base/versions/2',
    ),
  },
  { additionalProperties: false },
);
