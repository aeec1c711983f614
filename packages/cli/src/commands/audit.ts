import type { AuditCheckpoint, AuditEvent, AuditEventsFilter, AuditVerification } from '@quiver/sdk';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { addListOptions, type Context, type ListFlags, printList } from '../context.js';
import { CliExit } from '../errors.js';
import { type Column, clip, time } from '../output.js';
import { Progress } from '../progress.js';

const COLUMNS: Column<AuditEvent>[] = [
  ['SEQ', (e) => String(e.seq)],
  ['TIME', (e) => time(e.time)],
  ['PRINCIPAL', (e) => e.principal],
  ['ACTION', (e) => e.action],
  ['OUTCOME', (e) => e.outcome],
  ['RESOURCE', (e) => clip(e.resource, 80)],
];

const CHECKPOINT: Column<AuditCheckpoint>[] = [
  ['seq', (c) => String(c.seq)],
  ['hash', (c) => c.hash],
  ['time', (c) => c.time],
  ['key_id', (c) => c.key_id],
  ['signature', (c) => c.signature],
];

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An RFC 3339 time, or a duration back from now (`30m`, `24h`, `7d`). */
export function parseSince(value: string, now: () => number = Date.now): string {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) return new Date(now() - Number(relative[1]) * UNITS[relative[2]!]!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError(
    'Expected an RFC 3339 time (2026-01-31T00:00:00Z) or a duration ago (30m, 24h, 7d).',
  );
}

interface EventFlags extends ListFlags, AuditEventsFilter {
  jsonl?: boolean;
  newestFirst?: boolean;
}

/** One line for people: the verdict, with the first broken event when there is one. */
export function verdictText(v: AuditVerification): string {
  const keys = v.key_ids.length ? ` (signing keys: ${v.key_ids.join(', ')})` : '';
  if (v.valid) {
    return `OK: the audit log is intact: ${v.events_checked} events and ${v.checkpoints_checked} signed checkpoints verified up to seq ${v.head_seq}${keys}.`;
  }
  const f = v.first_invalid;
  return `TAMPERED: the audit log is not intact at seq ${f?.seq ?? '?'} (${f?.reason ?? 'unknown'}): ${f?.message ?? ''}. ${v.events_checked} events before it verified.`;
}

export function auditCommand(program: Command, context: (cmd: Command) => Context): void {
  const audit = program
    .command('audit')
    .description('The tamper-evident audit log: list and export events, verify the chain, checkpoints')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver audit verify
  $ quiver audit events --resource 'namespaces/fraud/*' --since 24h
  $ quiver audit events --principal ci-bot --jsonl > audit.jsonl`,
    );

  audit
    .command('verify')
    .description(
      'Verify the whole hash chain and every checkpoint signature; exit status 1 when it was tampered with',
    )
    .addHelpText('after', '\nExample:\n  $ quiver audit verify')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const progress = new Progress(ctx.io, { unit: 'events', items: 'events' });
      let shown = false;
      const verdict = await ctx.client.audit
        .verify({
          onProgress: (done, total) => {
            shown = true;
            progress.update({ done, total, items: done });
          },
        })
        .finally(() => {
          if (shown) progress.finish();
        });
      ctx.printer.message(verdictText(verdict), verdict);
      if (!verdict.valid) throw new CliExit(1);
    });

  addListOptions(
    audit
      .command('events')
      .description('List audit events, oldest first (filters combine)')
      .option('--principal <id>', 'only this principal')
      .option('--resource <name>', "exact resource name, or a prefix ending in '*' (namespaces/fraud/*)")
      .option('--action <action>', 'only this action, e.g. TransitionVersion')
      .addOption(
        new Option('--outcome <outcome>', 'only this outcome').choices(['success', 'denied', 'failed']),
      )
      .option('--since <time>', 'at or after: RFC 3339, or a duration ago (30m, 24h, 7d)', (v) =>
        parseSince(v),
      )
      .option('--until <time>', 'before: RFC 3339, or a duration ago', (v) => parseSince(v))
      .option('--newest-first', 'newest events first')
      .option('--jsonl', 'stream every matching event as JSON Lines (one per line; for archives and pipes)'),
    false,
  )
    .addHelpText(
      'after',
      `
Examples:
  $ quiver audit events --since 24h
  $ quiver audit events --resource namespaces/fraud/models/scorer/versions/3
  $ quiver audit events --outcome denied --newest-first --page-size 20
  $ quiver audit events --jsonl > audit-$(date +%F).jsonl`,
    )
    .action(async (opts: EventFlags, cmd: Command) => {
      const ctx = context(cmd);
      const filter: AuditEventsFilter = {
        principal: opts.principal,
        resource: opts.resource,
        action: opts.action,
        outcome: opts.outcome,
        since: opts.since,
        until: opts.until,
      };
      if (opts.jsonl) {
        for await (const event of await ctx.client.audit.exportEvents(filter)) {
          ctx.io.out(`${JSON.stringify(event)}\n`);
        }
        return;
      }
      const order_by = opts.newestFirst ? 'seq desc' : undefined;
      const { audit: api } = ctx.client;
      await printList(
        ctx,
        opts,
        (r) => api.listEvents({ ...filter, order_by, page_size: r.page_size, page_token: r.page_token }),
        (r) => api.iterateEvents({ ...filter, order_by, page_size: r.page_size, page_token: r.page_token }),
        COLUMNS,
        'audit events',
      );
    });

  audit
    .command('checkpoint')
    .description('Sign the head of the chain now (the server also does so periodically)')
    .addHelpText('after', '\nExample:\n  $ quiver audit checkpoint')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.audit.checkpoint(), CHECKPOINT);
    });

  audit
    .command('public-key')
    .description('Print the public key (PEM) that signs checkpoints, and its key id')
    .addHelpText('after', '\nExample:\n  $ quiver audit public-key > quiver-audit.pem')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const key = await ctx.client.audit.publicKey();
      ctx.printer.message(`# key_id ${key.key_id} (${key.algorithm})\n${key.public_key.trimEnd()}`, key);
    });
}
