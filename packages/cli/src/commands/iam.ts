import type { NamespacePolicy, Principal, Role, RoleBinding, Token } from '@quiver/sdk';
import type { Command } from 'commander';
import {
  addListOptions,
  type Context,
  type ListFlags,
  listOption,
  positiveInt,
  printList,
} from '../context.js';
import { type Column, clip, time } from '../output.js';

const PRINCIPAL: Column<Principal>[] = [
  ['name', (p) => p.name],
  ['kind', (p) => p.kind],
  ['display_name', (p) => p.display_name],
  ['disabled', (p) => String(p.disabled)],
  ['external_subject', (p) => p.external_subject ?? '-'],
  ['create_time', (p) => p.create_time],
];
const PRINCIPALS: Column<Principal>[] = [
  ['PRINCIPAL', (p) => p.principal_id],
  ['KIND', (p) => p.kind],
  ['NAME', (p) => clip(p.display_name)],
  ['DISABLED', (p) => (p.disabled ? 'yes' : '')],
];
const TOKENS: Column<Token>[] = [
  ['TOKEN', (t) => t.token_id],
  ['PREFIX', (t) => `${t.prefix}…`],
  ['STATE', (t) => t.state],
  ['EXPIRES', (t) => (t.expire_time ? time(t.expire_time) : 'never')],
  ['LAST USED', (t) => (t.last_used_time ? time(t.last_used_time) : 'never')],
  ['DESCRIPTION', (t) => clip(t.description)],
];
const ROLES: Column<Role>[] = [
  ['ROLE', (r) => r.role_id],
  ['BUILT-IN', (r) => (r.built_in ? 'yes' : '')],
  ['PERMISSIONS', (r) => clip(r.permissions.join(' '), 80)],
];
const ROLE: Column<Role>[] = [
  ['name', (r) => r.name],
  ['built_in', (r) => String(r.built_in)],
  ['description', (r) => r.description || '-'],
  ['permissions', (r) => r.permissions.join(' ')],
];
const BINDINGS: Column<RoleBinding>[] = [
  ['BINDING', (b) => b.binding_id],
  ['ROLE', (b) => b.role.replace(/^roles\//, '')],
  ['MEMBER', (b) => b.member],
  ['SCOPE', (b) => b.scope],
  ['BY', (b) => b.created_by],
];
const POLICY: Column<NamespacePolicy>[] = [
  ['name', (p) => p.name],
  ['separation_of_duties', (p) => String(p.separation_of_duties)],
  ['require_approval_for_deploy', (p) => String(p.require_approval_for_deploy)],
];

const onOff = (value: string) => {
  if (value !== 'on' && value !== 'off') throw new Error("Expected 'on' or 'off'.");
  return value === 'on';
};

/** `quiver iam principals|tokens|roles|bindings|policy …` (needs `iam.manage`). */
export function iamCommand(program: Command, context: (cmd: Command) => Context): void {
  const iam = program
    .command('iam')
    .description('Principals, API tokens, roles, role bindings and namespace policies (needs iam.manage)')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver iam principals create ci-bot --kind service_account
  $ quiver iam tokens create ci-bot --description "GitHub Actions" --ttl 7776000
  $ quiver iam bindings create contributor principals/ci-bot --scope namespaces/fraud
  $ quiver iam policy set fraud --separation-of-duties on --require-approval-for-deploy on`,
    );

  const principals = iam.command('principals').description('Users and service accounts');
  principals
    .command('create')
    .argument('<id>', 'principal id')
    .option('--kind <kind>', 'user or service_account', 'user')
    .option('--display-name <text>', 'a readable name')
    .option('--subject <issuer|sub>', 'map an OIDC identity to this principal')
    .action(
      async (
        id: string,
        o: { kind: 'user' | 'service_account'; displayName?: string; subject?: string },
        cmd,
      ) => {
        const ctx = context(cmd);
        const p = await ctx.client.iam.createPrincipal({
          principal_id: id,
          kind: o.kind,
          display_name: o.displayName,
          external_subject: o.subject,
        });
        ctx.printer.resource(p, PRINCIPAL);
      },
    );
  principals
    .command('get')
    .argument('<id>', 'principal id')
    .action(async (id: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.iam.getPrincipal(id), PRINCIPAL);
    });
  addListOptions(principals.command('list').alias('ls'), false).action(async (o: ListFlags, cmd: Command) => {
    const ctx = context(cmd);
    const api = ctx.client.iam;
    const iterate = async function* (r: { page_token?: string | undefined; page_size?: number | undefined }) {
      let page = await api.listPrincipals(r);
      for (;;) {
        yield* page.items;
        if (!page.next_page_token) return;
        page = await api.listPrincipals({ ...r, page_token: page.next_page_token });
      }
    };
    await printList(ctx, o, (r) => api.listPrincipals(r), iterate, PRINCIPALS, 'principals');
  });
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    principals
      .command(name)
      .description(disabled ? 'Disable a principal: its tokens stop working' : 'Enable a principal again')
      .argument('<id>', 'principal id')
      .action(async (id: string, _o: unknown, cmd) => {
        const ctx = context(cmd);
        ctx.printer.resource(await ctx.client.iam.updatePrincipal(id, { disabled }), PRINCIPAL);
      });
  }

  const tokens = iam.command('tokens').description('API tokens of a principal');
  tokens
    .command('create')
    .description('Create an API token; its secret is printed once')
    .argument('<principal>', 'principal id')
    .option('--description <text>', 'what the token is for')
    .option('--ttl <seconds>', 'lifetime in seconds (default: until revoked)', positiveInt)
    .action(async (principal: string, o: { description?: string; ttl?: number }, cmd) => {
      const ctx = context(cmd);
      const t = await ctx.client.iam.createToken(principal, {
        description: o.description,
        ttl_seconds: o.ttl,
      });
      ctx.printer.resource(t, [
        ['name', (x) => x.name],
        ['secret', (x) => x.secret],
        ['expire_time', (x) => x.expire_time ?? 'never'],
      ]);
      ctx.printer.note('Store the secret now: it is not shown again. Use it as QUIVER_TOKEN or --token.');
    });
  tokens
    .command('list')
    .alias('ls')
    .argument('<principal>', 'principal id')
    .action(async (principal: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      ctx.printer.page(await ctx.client.iam.listTokens(principal, { page_size: 1000 }), TOKENS, 'tokens');
    });
  tokens
    .command('revoke')
    .argument('<principal>', 'principal id')
    .argument('<token>', 'token id (see tokens list)')
    .action(async (principal: string, token: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      const t = await ctx.client.iam.revokeToken(principal, token);
      ctx.printer.message(`Revoked ${t.name} (${t.prefix}…).`, t);
    });

  const roles = iam.command('roles').description('Built-in and custom roles');
  roles
    .command('list')
    .alias('ls')
    .action(async (_o: unknown, cmd) => {
      const ctx = context(cmd);
      ctx.printer.page(await ctx.client.iam.listRoles(), ROLES, 'roles');
    });
  roles
    .command('get')
    .argument('<role>', 'role id')
    .action(async (role: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.iam.getRole(role), ROLE);
    });
  roles
    .command('create')
    .description('Create a custom role')
    .argument('<role>', 'role id')
    .requiredOption('--permission <name>', 'a permission (repeat), e.g. inference.call', listOption)
    .option('--description <text>', 'what the role is for')
    .action(async (role: string, o: { permission: string[]; description?: string }, cmd) => {
      const ctx = context(cmd);
      const r = await ctx.client.iam.createRole({
        role_id: role,
        permissions: o.permission,
        description: o.description,
      });
      ctx.printer.resource(r, ROLE);
    });
  roles
    .command('delete')
    .argument('<role>', 'custom role id')
    .action(async (role: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      await ctx.client.iam.deleteRole(role);
      ctx.printer.message(`Deleted roles/${role}.`, { deleted: `roles/${role}` });
    });

  const bindings = iam.command('bindings').description('Role bindings: a role for a member at a scope');
  bindings
    .command('create')
    .argument('<role>', 'role id, e.g. viewer')
    .argument('<member>', 'principals/{id} or groups/{name}')
    .option('--scope <scope>', 'global, namespaces/{ns} or namespaces/{ns}/models/{model}', 'global')
    .action(async (role: string, member: string, o: { scope: string }, cmd) => {
      const ctx = context(cmd);
      const b = await ctx.client.iam.createBinding({ role, member, scope: o.scope });
      ctx.printer.resource(b, BINDINGS);
    });
  bindings
    .command('list')
    .alias('ls')
    .option('--member <member>', 'only this member')
    .option('--scope <scope>', 'only this scope')
    .option('--role <role>', 'only this role')
    .action(async (o: { member?: string; scope?: string; role?: string }, cmd) => {
      const ctx = context(cmd);
      ctx.printer.page(
        await ctx.client.iam.listBindings({ ...o, page_size: 1000 }),
        BINDINGS,
        'role bindings',
      );
    });
  bindings
    .command('delete')
    .argument('<binding>', 'binding id (see bindings list)')
    .action(async (binding: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      await ctx.client.iam.deleteBinding(binding);
      ctx.printer.message(`Deleted roleBindings/${binding}.`, { deleted: `roleBindings/${binding}` });
    });

  const policy = iam
    .command('policy')
    .description('Separation of duties and approval before deploy, per namespace');
  policy
    .command('get')
    .argument('<namespace>', 'namespace id')
    .action(async (namespace: string, _o: unknown, cmd) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.iam.getPolicy(namespace), POLICY);
    });
  policy
    .command('set')
    .argument('<namespace>', 'namespace id')
    .option('--separation-of-duties <on|off>', 'the creator of a version may not approve it', onOff)
    .option('--require-approval-for-deploy <on|off>', 'only approved versions may be deployed', onOff)
    .action(
      async (
        namespace: string,
        o: { separationOfDuties?: boolean; requireApprovalForDeploy?: boolean },
        cmd,
      ) => {
        const ctx = context(cmd);
        const p = await ctx.client.iam.updatePolicy(namespace, {
          separation_of_duties: o.separationOfDuties,
          require_approval_for_deploy: o.requireApprovalForDeploy,
        });
        ctx.printer.resource(p, POLICY);
      },
    );
  addExamples(iam);
}

const EXAMPLES: Record<string, string> = {
  principals: 'quiver iam principals list',
  'principals create': 'quiver iam principals create ci-bot --kind service_account',
  'principals get': 'quiver iam principals get ci-bot',
  'principals list': 'quiver iam principals list --all',
  'principals disable': 'quiver iam principals disable ci-bot',
  'principals enable': 'quiver iam principals enable ci-bot',
  tokens: 'quiver iam tokens list ci-bot',
  'tokens create': 'quiver iam tokens create ci-bot --description "GitHub Actions" --ttl 7776000',
  'tokens list': 'quiver iam tokens list ci-bot',
  'tokens revoke': 'quiver iam tokens revoke ci-bot 3f2a9c1d0b7e4a55',
  roles: 'quiver iam roles list',
  'roles list': 'quiver iam roles list',
  'roles get': 'quiver iam roles get approver',
  'roles create': 'quiver iam roles create caller --permission inference.call',
  'roles delete': 'quiver iam roles delete caller',
  bindings: 'quiver iam bindings list --scope namespaces/fraud',
  'bindings create': 'quiver iam bindings create contributor principals/ci-bot --scope namespaces/fraud',
  'bindings list': 'quiver iam bindings list --member principals/ci-bot',
  'bindings delete': 'quiver iam bindings delete 9b1c2d3e4f5a6b7c',
  policy: 'quiver iam policy get fraud',
  'policy get': 'quiver iam policy get fraud',
  'policy set': 'quiver iam policy set fraud --separation-of-duties on --require-approval-for-deploy on',
};

/** Every `iam` subcommand shows an example in its help. */
function addExamples(iam: Command): void {
  for (const group of iam.commands) {
    group.addHelpText('after', `\nExample:\n  $ ${EXAMPLES[group.name()]}`);
    for (const leaf of group.commands)
      leaf.addHelpText('after', `\nExample:\n  $ ${EXAMPLES[`${group.name()} ${leaf.name()}`]}`);
  }
}

/** `quiver login`: checks a token and tells who it is; `quiver whoami` for the current one. */
export function loginCommand(program: Command, context: (cmd: Command) => Context): void {
  for (const name of ['whoami', 'login']) {
    program
      .command(name)
      .description(
        name === 'login'
          ? 'Check a token (--token, QUIVER_TOKEN, or {data_dir}/admin-token) and show whom it authenticates'
          : 'Show whom the current token authenticates',
      )
      .action(async (_o: unknown, cmd: Command) => {
        const ctx = context(cmd);
        const me = await ctx.client.iam.whoami();
        ctx.printer.resource(me, [
          ['principal', (m) => m.principal],
          ['kind', (m) => m.kind],
          ['groups', (m) => m.groups.join(' ') || '-'],
          ['authentication', (m) => m.authentication],
        ]);
        if (name === 'login')
          ctx.printer.note('Authenticated. Keep using this token with QUIVER_TOKEN or --token.');
      })
      .addHelpText(
        'after',
        `\nExamples:\n  $ quiver ${name}${name === 'login' ? ' --token qvr_…' : ''}\n  $ QUIVER_TOKEN=qvr_… quiver ${name}`,
      );
  }
}
