import { Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../../../domain/names.js';
import { PERMISSIONS } from '../../../domain/permissions.js';
import { PRINCIPAL_KINDS } from '../../../domain/resources.js';

const Strict = { additionalProperties: false } as const;
const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Id = (what: string) => Type.String({ pattern: ID_PATTERN, description: `${what} id.` });
const Kind = Type.Union([Type.Literal(PRINCIPAL_KINDS[0]), Type.Literal(PRINCIPAL_KINDS[1])]);
const Scope = Type.String({
  maxLength: 200,
  description: '`global`, `namespaces/{namespace}` or `namespaces/{namespace}/models/{model}`.',
  examples: ['namespaces/fraud'],
});
const Member = Type.String({
  maxLength: 300,
  description: '`principals/{principal_id}` or `groups/{group}` (groups come from the OIDC groups claim).',
  examples: ['principals/ci-bot', 'groups/ml-team'],
});
const PermissionList = Type.Array(Type.String({ enum: [...PERMISSIONS] }), {
  minItems: 1,
  maxItems: PERMISSIONS.length,
});

export const Principal = Type.Object({
  name: Type.String({ examples: ['principals/ci-bot'] }),
  principal_id: Type.String(),
  kind: Kind,
  display_name: Type.String(),
  disabled: Type.Boolean(),
  external_subject: Type.Union([Type.String(), Type.Null()], {
    description: '`issuer|sub` of a mapped OIDC identity.',
  }),
  create_time: Time,
  update_time: Time,
});

export const Token = Type.Object({
  name: Type.String({ examples: ['principals/ci-bot/tokens/3f2a9c1d0b7e4a55'] }),
  token_id: Type.String(),
  principal: Type.String(),
  prefix: Type.String({ description: 'The first characters of the secret, to recognise it.' }),
  description: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  create_time: Time,
  expire_time: NullableTime,
  revoke_time: NullableTime,
  last_used_time: Type.Union([Time, Type.Null()], { description: 'Recorded at most about once a minute.' }),
});

export const CreatedToken = Type.Intersect([
  Token,
  Type.Object({ secret: Type.String({ description: 'The token (`qvr_…`). Shown only in this answer.' }) }),
]);

export const Role = Type.Object({
  name: Type.String({ examples: ['roles/viewer'] }),
  role_id: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
  built_in: Type.Boolean(),
});

export const RoleBinding = Type.Object({
  name: Type.String({ examples: ['roleBindings/9b1c2d3e4f5a6b7c'] }),
  binding_id: Type.String(),
  role: Type.String({ examples: ['roles/viewer'] }),
  member: Type.String(),
  scope: Type.String(),
  created_by: Type.String(),
  create_time: Time,
});

export const NamespacePolicy = Type.Object({
  name: Type.String({ examples: ['namespaces/fraud/policy'] }),
  separation_of_duties: Type.Boolean({ description: 'The creator of a version may not approve it.' }),
  require_approval_for_deploy: Type.Boolean({ description: 'Only `approved` versions may be deployed.' }),
  update_time: NullableTime,
});

export const WhoAmI = Type.Object({
  principal: Type.String({ examples: ['principals/admin'] }),
  kind: Type.Union([Kind, Type.Literal('anonymous')]),
  groups: Type.Array(Type.String()),
  authentication: Type.Union([Type.Literal('on'), Type.Literal('off')]),
  grants: Type.Array(
    Type.Object({
      scope: Type.String({ examples: ['global', 'namespaces/fraud', 'namespaces/fraud/models/scorer'] }),
      permissions: Type.Array(Type.String()),
    }),
    {
      description: "The caller's permissions and where they apply (from its and its groups' role bindings).",
    },
  ),
});

export const CreatePrincipalBody = Type.Object(
  {
    principal_id: Id('Principal'),
    kind: Type.Optional(Kind),
    display_name: Type.Optional(Type.String({ maxLength: 200 })),
    external_subject: Type.Optional(
      Type.String({ maxLength: 512, description: 'Map an OIDC identity (`issuer|sub`).' }),
    ),
  },
  Strict,
);

export const UpdatePrincipalBody = Type.Object(
  {
    display_name: Type.Optional(Type.String({ maxLength: 200 })),
    disabled: Type.Optional(Type.Boolean({ description: 'A disabled principal cannot authenticate.' })),
    external_subject: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
  },
  Strict,
);

export const CreateTokenBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Lifetime; none: until revoked.' })),
  },
  Strict,
);

export const CreateRoleBody = Type.Object(
  {
    role_id: Id('Role'),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    permissions: PermissionList,
  },
  Strict,
);

export const UpdateRoleBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    permissions: Type.Optional(PermissionList),
  },
  Strict,
);

export const CreateBindingBody = Type.Object(
  {
    role: Type.String({ maxLength: 100, examples: ['roles/contributor'] }),
    member: Member,
    scope: Type.Optional(Scope),
  },
  Strict,
);

export const ListBindingsQuery = Type.Object(
  {
    member: Type.Optional(Member),
    scope: Type.Optional(Scope),
    role: Type.Optional(Type.String({ maxLength: 100 })),
    page_size: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    page_token: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  Strict,
);

export const UpdatePolicyBody = Type.Object(
  {
    separation_of_duties: Type.Optional(Type.Boolean()),
    require_approval_for_deploy: Type.Optional(Type.Boolean()),
  },
  Strict,
);

export const PrincipalParams = Type.Object({ principal: Type.String({ maxLength: 100 }) });
export const TokenParams = Type.Object({
  principal: Type.String({ maxLength: 100 }),
  token: Type.String({ maxLength: 100 }),
});
export const RoleParams = Type.Object({ role: Type.String({ maxLength: 100 }) });
export const BindingParams = Type.Object({ binding: Type.String({ maxLength: 100 }) });
